package strategy

import (
	"context"
	"fmt"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// Streamer is implemented by the configs of strategies that can run a
// streamed workload (workload.dataset.streaming: the dataset is never held
// whole). Such a strategy reads each pass's rows from the workload's
// Source, batch by batch, runs each batch into a window (one batch of
// outputs) and hands it to the store's Deliver, where it is checked at
// once; so nothing it holds grows with the rows. Streams returns "" when
// this cell can stream, else why not.
type Streamer interface {
	Streams() string
}

// CanStream reports whether cfg's cell can run a streamed workload, and
// why not. A strategy whose config is not a Streamer reads batches from
// the table in memory (Workload.Data).
func CanStream(cfg Config) (bool, string) {
	s, ok := cfg.(Streamer)
	if !ok {
		return false, "it reads its batches from the whole table in memory"
	}
	why := s.Streams()
	return why == "", why
}

// Streaming lists the strategies that stream with their defaults, sorted.
func (r Registry) Streaming() []string {
	var names []string
	for _, n := range r.Names() {
		if ok, _ := CanStream(r[n].NewConfig()); ok {
			names = append(names, n)
		}
	}
	return names
}

// streamSlot is one batch in flight in a streaming pass: its input rows and
// the window its outputs go into.
type streamSlot struct {
	in  []float32
	win *workload.Outputs
}

// newStreamSlot sizes a slot for the job's batches; out is a streaming
// store of the same batch size (its Window).
func newStreamSlot(job *Job) streamSlot {
	bs := job.BatchSize()
	return streamSlot{
		in:  make([]float32, bs*job.Workload.Width()),
		win: workload.NewOutputs(job.Workload.Layout(), bs, bs),
	}
}

// streamLoop is loop for a streamed workload: batches 0..n-1 read from a
// fresh Source, each run on x into the slot's window and delivered to out
// (checked there) before the next is read. Latency is the Run alone, as
// for the in-memory loop; reading and checking are in the pass's wall time.
func streamLoop(ctx context.Context, job *Job, x workload.Executor, n int, out *workload.Outputs, rec *metrics.Recorder, slot streamSlot) error {
	if !out.Streaming() {
		return fmt.Errorf("a streamed workload needs a streaming output store (workload.NewStreamOutputs)")
	}
	src, err := job.Workload.OpenSource()
	if err != nil {
		return err
	}
	defer src.Close()
	bs, rows, width := job.BatchSize(), job.Workload.Rows(), job.Workload.Width()
	for i := range n {
		if i&63 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		start, k := workload.Span(i, bs, rows)
		in := slot.in[:k*width]
		if err := readFull(src, in); err != nil {
			return fmt.Errorf("reading batch %d (rows %d..%d): %w", i, start, start+k-1, err)
		}
		t0 := time.Now()
		if err := x.Run(in, 0, slot.win); err != nil {
			return fmt.Errorf("batch %d (rows %d..%d): %w", i, start, start+k-1, err)
		}
		rec.Record(time.Since(t0))
		out.Deliver(i, start, k, slot.win)
	}
	return nil
}
