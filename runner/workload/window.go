package workload

import (
	"sync/atomic"

	"github.com/ortbench/ortbench/onnx"
)

// Sink takes each batch's outputs as they are made, in streaming mode,
// where no store holds a whole pass. Its methods are called by one
// goroutine at a time (the strategy's collector, or its only goroutine).
type Sink interface {
	// Batch receives dataset rows start … start+n−1, held in win's first n
	// rows; win is reused once Batch returns.
	Batch(start, n int, win *Outputs)
	// Reset starts a new pass.
	Reset()
}

// NewStreamOutputs is a pass's store in streaming mode: it counts batches
// like NewOutputs but holds no rows (F32 and I64 are nil). Strategies run
// each batch into a window (Window: one batch of rows, written from row 0)
// and hand it to Deliver, which passes it to sink (the verifier's per-batch
// check, or the reference writer) and marks the batch done.
func NewStreamOutputs(layout []onnx.Output, rows, batchSize int, sink Sink) *Outputs {
	o := &Outputs{Layout: layout, Rows: rows, BatchSize: batchSize,
		F32: make([][]float32, len(layout)), I64: make([][]int64, len(layout)), sink: sink}
	o.hits = make([]atomic.Uint32, Batches(rows, batchSize))
	return o
}

// Streaming reports whether o is a streaming store (NewStreamOutputs).
func (o *Outputs) Streaming() bool { return o.sink != nil }

// Sink is a streaming store's sink (nil otherwise).
func (o *Outputs) Sink() Sink { return o.sink }

// Window is a store for one batch of o's rows, written from row 0: the
// buffer a streaming strategy runs a batch into.
func (o *Outputs) Window() *Outputs { return NewOutputs(o.Layout, o.BatchSize, o.BatchSize) }

// Deliver hands batch i (dataset rows start … start+n−1, in win's first n
// rows) to the sink and marks it done. Called by one goroutine at a time.
func (o *Outputs) Deliver(i, start, n int, win *Outputs) {
	o.sink.Batch(start, n, win)
	o.Done(i)
}
