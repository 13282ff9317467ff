// Package workload is what strategies run: an ONNX model over a dataset, or
// the built-in pure-Go heavy task. A Workload hands out Engines (one ORT
// session, or nothing for the heavy task) and an Engine hands out Executors,
// one per goroutine, that process a batch of rows and write their results into
// an Outputs store at those rows.
//
// Strategies decide how many engines and executors exist and how batches are
// spread over them; the workload decides what a batch costs.
package workload

import (
	"fmt"
	"sync/atomic"

	"github.com/ortbench/ortbench/onnx"
)

// Workload is safe for concurrent use once built.
type Workload interface {
	// Kind is "onnx" or "heavy-task".
	Kind() string
	// Rows is the number of rows (items) one pass processes.
	Rows() int
	// RecordBytes is the bytes of one item's inputs: every model input's
	// item bytes in model order (onnx.RecordBytes); 4 × features for a
	// tabular model, 4 for the heavy task's seed.
	RecordBytes() int
	// Data is every item's record, item after item, in memory.
	Data() []byte
	// Layout describes the outputs each row produces.
	Layout() []onnx.Output
	// UsesORT reports whether ORT sessions and their thread settings apply.
	UsesORT() bool
	// Open makes an engine with the given session options (ignored by the heavy task).
	Open(opts onnx.Options) (Engine, error)
	// Describe names the workload for results ("model on dataset").
	Describe() (model, dataset string)
	// OpenSource streams the input rows again from where they came from (the
	// dataset file), for the pipeline strategy's reader stage.
	OpenSource() (Source, error)
}

// Source streams input rows. Not safe for concurrent use.
type Source interface {
	// Read fills dst with up to len(dst)/RecordBytes whole item records and
	// returns the number of bytes written; io.EOF when none remain.
	Read(dst []byte) (int, error)
	Close() error
}

// Engine is one ORT session (or its heavy-task stand-in). Safe for concurrent
// use: executors made from it may run at the same time.
type Engine interface {
	// NewExecutor makes a per-goroutine executor for batches of up to batchSize
	// rows; rowCounts lists the batch lengths it will see (preallocated).
	NewExecutor(rowCounts ...int) (Executor, error)
	Close() error
}

// Executor runs batches. Not safe for concurrent use.
type Executor interface {
	// Run processes in (whole item records) whose first item is item
	// `start` of the workload, and writes the results into out at those rows.
	Run(in []byte, start int, out *Outputs) error
	Close() error
}

// Outputs holds one pass's results, indexed by row, plus a per-batch counter
// that proves every batch was processed exactly once. Executors write disjoint
// rows, so no locks are needed; the counters are atomic because a buggy
// strategy could hand one batch to two goroutines, and that must be caught,
// not raced.
type Outputs struct {
	Layout    []onnx.Output
	Rows      int
	BatchSize int
	F32       [][]float32 // per output; nil where the output is int64
	I64       [][]int64
	hits      []atomic.Uint32
	sink      Sink // streaming mode only (window.go)
}

// NewOutputs allocates a store for rows rows of the given layout, counted in
// batches of batchSize.
func NewOutputs(layout []onnx.Output, rows, batchSize int) *Outputs {
	o := &Outputs{Layout: layout, Rows: rows, BatchSize: batchSize,
		F32: make([][]float32, len(layout)), I64: make([][]int64, len(layout))}
	for k, l := range layout {
		if l.Kind == onnx.Int64 {
			o.I64[k] = make([]int64, rows*l.Width)
		} else {
			o.F32[k] = make([]float32, rows*l.Width)
		}
	}
	o.hits = make([]atomic.Uint32, Batches(rows, batchSize))
	return o
}

// Reset clears the batch counters and outputs before a new pass.
func (o *Outputs) Reset() {
	for i := range o.hits {
		o.hits[i].Store(0)
	}
	for k := range o.Layout {
		clear(o.F32[k])
		clear(o.I64[k])
	}
	if o.sink != nil {
		o.sink.Reset()
	}
}

// Done marks batch i processed. Strategies call it once per batch.
func (o *Outputs) Done(i int) { o.hits[i].Add(1) }

// Coverage checks that every one of the first n batches was processed exactly
// once and no other batch was touched.
func (o *Outputs) Coverage(n int) error {
	for i := range o.hits {
		got := o.hits[i].Load()
		want := uint32(0)
		if i < n {
			want = 1
		}
		if got != want {
			start, rows := Span(i, o.BatchSize, o.Rows)
			return fmt.Errorf("batch %d (rows %d..%d) processed %d times, want %d", i, start, start+rows-1, got, want)
		}
	}
	return nil
}

// Batches is the number of batches of size bs covering rows.
func Batches(rows, bs int) int { return (rows + bs - 1) / bs }

// Span returns batch i's first row and row count.
func Span(i, bs, rows int) (start, n int) {
	start = i * bs
	n = min(bs, rows-start)
	return start, n
}

// RowCounts lists the distinct batch lengths a pass over rows in batches of bs
// produces: the batch size and, if the last batch is short, its length.
func RowCounts(rows, bs int) []int {
	if bs >= rows {
		return []int{rows}
	}
	if r := rows % bs; r != 0 {
		return []int{bs, r}
	}
	return []int{bs}
}
