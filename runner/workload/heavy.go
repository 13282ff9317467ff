package workload

import (
	"fmt"
	"io"
	"os"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
)

// Heavy is the built-in CPU-heavy task: each item runs Cost rounds of a 64-bit
// LCG with an xorshift, seeded by the item's index, and outputs the final
// state. It needs no model, allocates nothing and shares nothing, so it shows
// the ceiling of each concurrency strategy. The Python twin
// (baselines/python) does the same arithmetic.
type Heavy struct {
	items, cost int
	data        []byte // item i's record: float32(i), the seed
	shared
}

var _ Workload = (*Heavy)(nil)

// NewHeavy builds a heavy task of items items, cost rounds each.
func NewHeavy(items, cost int) (*Heavy, error) {
	if items < 1 || cost < 1 {
		return nil, fmt.Errorf("heavy task needs items ≥ 1 and cost ≥ 1, got %d and %d", items, cost)
	}
	d := make([]float32, items)
	for i := range d {
		d[i] = float32(i)
	}
	return &Heavy{items: items, cost: cost, data: raw.Bytes(d)}, nil
}

// Share moves the item seeds into shared memory (Sharer).
func (h *Heavy) Share() (*os.File, error) { return h.share(&h.data, h.items, heavyRecord) }

// HeavyItem computes one item. Exported for the benchmark and the Python twin's test.
func HeavyItem(seed uint64, cost int) uint64 {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := 0; i < cost; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 33
	}
	return x
}

func (h *Heavy) Kind() string               { return "heavy-task" }
func (h *Heavy) Rows() int                  { return h.items }
func (h *Heavy) RecordBytes() int           { return heavyRecord }
func (h *Heavy) Data() []byte               { return h.data }
func (h *Heavy) Cost() int                  { return h.cost }
func (h *Heavy) UsesORT() bool              { return false }
func (h *Heavy) Describe() (string, string) { return "", "" }
func (h *Heavy) Layout() []onnx.Output {
	return []onnx.Output{{Name: "checksum", Kind: onnx.Int64, Width: 1}}
}

func (h *Heavy) Open(onnx.Options) (Engine, error) { return heavyEngine{cost: h.cost}, nil }

type heavyEngine struct{ cost int }

func (e heavyEngine) NewExecutor(...int) (Executor, error) { return heavyExecutor(e), nil }
func (heavyEngine) Close() error                           { return nil }

type heavyExecutor struct{ cost int }

func (x heavyExecutor) Run(in []byte, start int, out *Outputs) error {
	heavyInto(out.I64[0][start:start+len(in)/heavyRecord], start, x.cost)
	return nil
}

// heavyInto computes items first, first+1, … into dst.
func heavyInto(dst []int64, first, cost int) {
	for i := range dst {
		dst[i] = int64(HeavyItem(uint64(first+i), cost))
	}
}

func (heavyExecutor) Close() error { return nil }

// OpenSource streams the item seeds from memory.
func (h *Heavy) OpenSource() (Source, error) { return &memSource{data: h.data}, nil }

// heavyRecord is the bytes of one heavy-task item: its seed as a float32
// (the item's index; the seed is recomputed from the index, so the bytes
// only size the record).
const heavyRecord = 4

type memSource struct{ data []byte }

func (s *memSource) Read(dst []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(dst, s.data)
	s.data = s.data[n:]
	return n, nil
}

func (s *memSource) Close() error { return nil }
