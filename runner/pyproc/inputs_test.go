package pyproc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/internal/npz"
	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
)

// realPython is the baseline's interpreter and directory, or a skip.
func realPython(t *testing.T) (python, dir string) {
	t.Helper()
	python, dir, err := Find()
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return python, dir
}

// half is f as IEEE half; f must be a normal half or zero, exactly
// representable (the test's values are multiples of 1/4 below 64).
func half(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	if b&0x7fffffff == 0 {
		return sign
	}
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}

// multiInput is one input of tests/data/multi.onnx with its per-element
// values (value(item, k) as float64, encoded in the input's dtype).
type multiInput struct {
	feed  onnx.Feed
	value func(i, k int) float64
}

func multiInputs() []multiInput {
	f := func(name string, d onnx.DType, item []int64, v func(i, k int) float64) multiInput {
		return multiInput{onnx.Feed{Name: name, DType: d, Item: item}, v}
	}
	return []multiInput{
		f("x_f32", onnx.DFloat32, []int64{3}, func(i, k int) float64 { return float64(i*3+k)/8 - 2 }),
		f("x_f16", onnx.DFloat16, []int64{2, 2}, func(i, k int) float64 { return float64((i*4+k)%61-30) / 4 }),
		f("x_f64", onnx.DFloat64, []int64{1}, func(i, _ int) float64 { return math.Pi * float64(i) }),
		f("ids", onnx.DInt64, []int64{4}, func(i, k int) float64 { return float64(i*1000 + k) }),
		f("i32", onnx.DInt32, nil, func(i, _ int) float64 { return float64(500 - 77*i) }),
		f("i8", onnx.DInt8, []int64{2}, func(i, k int) float64 { return float64((i*37+k*11)%255 - 127) }),
		f("u8", onnx.DUint8, []int64{3}, func(i, k int) float64 { return float64((i*29 + k*5) % 255) }),
		f("mask", onnx.DBool, []int64{4}, func(i, k int) float64 { return float64((i + k) % 2) }),
	}
}

// encode is items of in as the little-endian bytes of its dtype.
func encode(in multiInput, items int) []byte {
	n := in.feed.ItemElems()
	b := make([]byte, 0, items*in.feed.ItemBytes())
	for i := range items {
		for k := range n {
			v := in.value(i, k)
			switch in.feed.DType {
			case onnx.DFloat32:
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
			case onnx.DFloat16:
				b = binary.LittleEndian.AppendUint16(b, half(float32(v)))
			case onnx.DFloat64:
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			case onnx.DInt64:
				b = binary.LittleEndian.AppendUint64(b, uint64(int64(v)))
			case onnx.DInt32:
				b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
			default: // int8, uint8, bool: one byte
				b = append(b, byte(int(v)))
			}
		}
	}
	return b
}

// multiOutput is one tensor output of multi.onnx: its wire kind, width and
// value from the inputs' values (as multi.onnx computes it).
type multiOutput struct {
	name  string
	dtype onnx.DType
	width int
	want  func(in []multiInput, i, k int) float64
}

func multiOutputs() []multiOutput {
	v := func(in []multiInput, name string, i, k int) float64 {
		for _, x := range in {
			if x.feed.Name == name {
				return x.value(i, k)
			}
		}
		panic(name)
	}
	return []multiOutput{
		{"out_f32", onnx.DFloat32, 3, func(in []multiInput, i, k int) float64 {
			return float64(float32(v(in, "x_f32", i, k)) + float32(v(in, "u8", i, k)))
		}},
		{"out_f16", onnx.DFloat16, 4, func(in []multiInput, i, k int) float64 { return 2 * v(in, "x_f16", i, k) }},
		{"out_f64", onnx.DFloat64, 1, func(in []multiInput, i, k int) float64 { return float64(float32(2 * v(in, "x_f64", i, k))) }},
		{"out_i64", onnx.DInt64, 4, func(in []multiInput, i, k int) float64 { return v(in, "ids", i, k) * v(in, "mask", i, k) }},
		{"out_i32", onnx.DInt32, 1, func(in []multiInput, i, k int) float64 { return 3 * v(in, "i32", i, k) }},
		{"out_i8", onnx.DInt8, 2, func(in []multiInput, i, k int) float64 { return float64(int8(-int(v(in, "i8", i, k)))) }},
		{"out_u8", onnx.DUint8, 3, func(in []multiInput, i, k int) float64 { return float64(uint8(int(v(in, "u8", i, k)) + 1)) }},
		{"out_bool", onnx.DBool, 4, func(in []multiInput, i, k int) float64 { return 1 - v(in, "mask", i, k) }},
	}
}

// TestRealRunnerFeedsTheNpz starts the real Python runner on multi.onnx
// (eight inputs, one per dtype, and a sequence output left out) fed from an
// .npz written here, and checks every output that comes back.
func TestRealRunnerFeedsTheNpz(t *testing.T) {
	python, dir := realPython(t)
	const items, batch = 13, 4 // 4 calls, the last one short
	ins := multiInputs()
	// The file holds more items than the run uses: Python must take the first.
	path, feeds := writeInputs(t, ins, items+2)
	outs := multiOutputs()
	var layout []Output
	for _, o := range outs {
		layout = append(layout, Output{Name: o.name, Kind: WireKind(o.dtype), Width: o.width})
	}
	for _, cell := range []struct {
		strategy string
		params   Params
	}{
		{"py-sequential", Params{}},
		{"py-pool", Params{Workers: 2, StartMethod: "fork", Data: "shared_memory"}},
	} {
		t.Run(cell.strategy, func(t *testing.T) {
			p := cell.params
			p.BatchSize, p.Workers, p.Threads = batch, max(p.Workers, 1), 1
			msg := StartMsg{Op: "start", Strategy: cell.strategy, Params: p, Layout: layout,
				Session:  Session{GraphOptimization: "all", MemArena: true, MemPattern: true},
				Workload: Workload{Kind: "onnx", Model: filepath.Join(dir, "tests", "data", "multi.onnx"), Inputs: path, Feeds: feeds, Rows: items, Width: 1}}
			got := runPass(t, python, dir, msg, 4, items)
			for j, o := range outs {
				for i := range items {
					for k := range o.width {
						want := o.want(ins, i, k)
						if g := got[j](i*o.width + k); g != want {
							t.Fatalf("%s item %d [%d] = %v, want %v", o.name, i, k, g, want)
						}
					}
				}
			}
		})
	}
}

// TestRealRunnerItemsWithoutABatchAxis: item.onnx's inputs have no batch
// axis; Python strips the items axis and feeds one item per call.
func TestRealRunnerItemsWithoutABatchAxis(t *testing.T) {
	python, dir := realPython(t)
	const items = 5
	img := multiInput{onnx.Feed{Name: "img", DType: onnx.DFloat32, Item: []int64{3, 4}, Batch: -1}, func(i, k int) float64 { return float64(i*12+k) / 4 }}
	kin := multiInput{onnx.Feed{Name: "k", DType: onnx.DInt64, Item: []int64{2}, Batch: -1}, func(i, k int) float64 { return float64(i*10 - k) }}
	path, feeds := writeInputs(t, []multiInput{img, kin}, items)
	msg := StartMsg{Op: "start", Strategy: "py-sequential", Params: Params{BatchSize: 1, Workers: 1, Threads: 1},
		Layout:   []Output{{Name: "y", Kind: WireKind(onnx.DFloat32), Width: 12}, {Name: "s", Kind: WireKind(onnx.DInt64), Width: 1}},
		Session:  Session{GraphOptimization: "all", MemArena: true, MemPattern: true},
		Workload: Workload{Kind: "onnx", Model: filepath.Join(dir, "tests", "data", "item.onnx"), Inputs: path, Feeds: feeds, Rows: items, Width: 1}}
	got := runPass(t, python, dir, msg, items, items)
	for i := range items {
		for k := range 12 {
			if g, want := got[0](i*12+k), 2*img.value(i, k); g != want {
				t.Fatalf("y item %d [%d] = %v, want %v", i, k, g, want)
			}
		}
		if g, want := got[1](i), kin.value(i, 0)+kin.value(i, 1); g != want {
			t.Fatalf("s item %d = %v, want %v", i, g, want)
		}
	}
}

// writeInputs writes items of ins to an .npz as ortbench does and returns
// its path and the inputs' Feeds.
func writeInputs(t *testing.T, ins []multiInput, items int) (string, []Feed) {
	t.Helper()
	var feeds []onnx.Feed
	var data [][]byte
	for _, in := range ins {
		feeds = append(feeds, in.feed)
		data = append(data, encode(in, items))
	}
	arrays, err := npz.OfFeeds(feeds, data, items)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inputs.npz")
	if err := npz.Write(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path, FeedsOf(feeds)
}

// runPass starts the runner, runs one pass of n batches and returns each
// layout output's values as float64 by index.
func runPass(t *testing.T, python, dir string, msg StartMsg, n, rows int) []func(int) float64 {
	t.Helper()
	r, err := Start(context.Background(), python, dir, msg)
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}()
	lat := make([]int64, n)
	want := []Block{{"latency_ns", "int64", n}}
	dst := [][]byte{raw.Bytes(lat)}
	var got []func(int) float64
	for _, o := range msg.Layout {
		want = append(want, Block{o.Name, o.Kind, rows * o.Width})
		if o.Kind == "int64" {
			s := make([]int64, rows*o.Width)
			dst = append(dst, raw.Bytes(s))
			got = append(got, func(i int) float64 { return float64(s[i]) })
		} else {
			s := make([]float32, rows*o.Width)
			dst = append(dst, raw.Bytes(s))
			got = append(got, func(i int) float64 { return float64(s[i]) })
		}
	}
	if err := r.Pass(context.Background(), n, rows, want, dst); err != nil {
		t.Fatal(err)
	}
	for i, ns := range lat {
		if ns <= 0 {
			t.Errorf("batch %d: latency %d", i, ns)
		}
	}
	return got
}

func TestWireKindAndFeedsOf(t *testing.T) {
	for d, want := range map[onnx.DType]string{onnx.DFloat32: "float32", onnx.DFloat16: "float32", onnx.DFloat64: "float32",
		onnx.DInt64: "int64", onnx.DInt32: "int64", onnx.DInt8: "int64", onnx.DUint8: "int64", onnx.DBool: "int64"} {
		if got := WireKind(d); got != want {
			t.Errorf("WireKind(%s) = %s, want %s", d, got, want)
		}
	}
	got := FeedsOf([]onnx.Feed{{Name: "ids", DType: onnx.DInt64, Item: []int64{128}}, {Name: "s", DType: onnx.DBool, Batch: -1}})
	if len(got) != 2 || got[0].Name != "ids" || got[0].DType != "int64" || got[0].Item[0] != 128 || got[1].DType != "bool" || got[1].Batch != -1 {
		t.Fatalf("FeedsOf: %+v", got)
	}
}

// TestPythonMapsTheNpzAligned: the runner maps every array of a Go-written
// .npz from the file, each 64-byte aligned (so onnxruntime takes it as is,
// without an aligning copy), with the values Go wrote.
func TestPythonMapsTheNpzAligned(t *testing.T) {
	python, dir := realPython(t)
	path, _ := writeInputs(t, multiInputs(), 7)
	const script = `
import sys, numpy as np
from ortbench_py.work import read_npz
for k, a in read_npz(sys.argv[1]).items():
    assert a.base is not None, k
    assert not a.flags.owndata and not a.flags.writeable and a.ctypes.data % 64 == 0, (k, a.ctypes.data % 64)
    print(k, a.dtype.str, a.shape, float(a.reshape(-1)[-1]))
`
	cmd := exec.Command(python, "-c", script, path)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var want strings.Builder
	for _, in := range multiInputs() {
		last := in.value(6, in.feed.ItemElems()-1)
		if in.feed.DType == onnx.DFloat32 {
			last = float64(float32(last))
		}
		fmt.Fprintf(&want, "%s %s %s %v\n", in.feed.Name, npyDescr[in.feed.DType], pyShape(append([]int64{7}, in.feed.Item...)), pyFloat(last))
	}
	if string(out) != want.String() {
		t.Fatalf("python read\n%s\nwant\n%s", out, want.String())
	}
}

var npyDescr = map[onnx.DType]string{onnx.DFloat32: "<f4", onnx.DFloat16: "<f2", onnx.DFloat64: "<f8", onnx.DInt64: "<i8",
	onnx.DInt32: "<i4", onnx.DInt8: "|i1", onnx.DUint8: "|u1", onnx.DBool: "|b1"}

// pyShape and pyFloat print as Python prints a shape tuple and a float.
func pyShape(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
