package strategy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procpool"
	"github.com/ortbench/ortbench/runner/workload"
)

// Streamer is implemented by the configs of strategies that can run a
// streamed workload (workload.dataset.streaming: the dataset is never held
// whole). Such a strategy reads each pass's rows from the workload's
// Source, batch by batch, runs each batch into a window (one batch of
// outputs) and hands it to the store's Deliver, where it is checked at
// once; so nothing it holds grows with the rows. sequential, intra-op and
// inter-op (streamLoop), pipeline (its reader stage) and processes
// (procStream: transport copy) do. Streams returns "" when
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

// Streaming lists the strategies that can stream (with some settings:
// Streams says which), sorted.
func (r Registry) Streaming() []string {
	var names []string
	for _, n := range r.Names() {
		if _, ok := r[n].NewConfig().(Streamer); ok {
			names = append(names, n)
		}
	}
	return names
}

// streamSlot is one batch in flight in a streaming pass: its input rows and
// the window its outputs go into.
type streamSlot struct {
	in  []byte
	win *workload.Outputs
}

// newStreamSlot sizes a slot for the job's batches; out is a streaming
// store of the same batch size (its Window).
func newStreamSlot(job *Job) streamSlot {
	bs := job.BatchSize()
	return streamSlot{
		in:  make([]byte, bs*job.Workload.RecordBytes()),
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
	bs, rows, width := job.BatchSize(), job.Workload.Rows(), job.Workload.RecordBytes()
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

// Streams: worker processes stream with transport copy, where the runner
// reads each batch from the file and sends it over the pipe; shared and
// replicate need the whole table (mapped, or loaded by every worker).
func (c *processesConfig) Streams() string {
	if c.Transport != procpool.TransportCopy {
		return fmt.Sprintf("transport %s needs the whole table (shared maps it, replicate loads it in every worker); use transport: copy", c.Transport)
	}
	return ""
}

// procStream feeds the processes strategy from a streamed workload: its
// senders take batches in order from one Source (each into its own
// buffer, valid until its Send returns), and its receivers decode each
// result into their own window and deliver it to the streaming store, one
// at a time.
type procStream struct {
	job  *Job
	out  *workload.Outputs
	mu   sync.Mutex // guards src and next: batches are read in order
	src  workload.Source
	next int
	bufs [][]byte            // per sender
	wins []*workload.Outputs // per receiver
	dmu  sync.Mutex          // the store's sink takes one batch at a time
}

// newProcStream opens one pass's Source for workers senders and receivers.
func newProcStream(job *Job, out *workload.Outputs, workers int) (*procStream, error) {
	if !out.Streaming() {
		return nil, fmt.Errorf("a streamed workload needs a streaming output store (workload.NewStreamOutputs)")
	}
	src, err := job.Workload.OpenSource()
	if err != nil {
		return nil, err
	}
	s := &procStream{job: job, out: out, src: src}
	for range workers {
		slot := newStreamSlot(job)
		s.bufs, s.wins = append(s.bufs, slot.in), append(s.wins, slot.win)
	}
	return s, nil
}

// take reads the next of n batches into sender k's buffer; batch −1 when
// none is left.
func (s *procStream) take(k, n int) (batch, first, rows int, in []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= n {
		return -1, 0, 0, nil, nil
	}
	batch = s.next
	s.next++
	first, rows = workload.Span(batch, s.job.BatchSize(), s.job.Workload.Rows())
	in = s.bufs[k][:rows*s.job.Workload.RecordBytes()]
	if err := readFull(s.src, in); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("reading batch %d (rows %d..%d): %w", batch, first, first+rows-1, err)
	}
	return batch, first, rows, in, nil
}

// deliver hands receiver k's window (batch, dataset rows first …) to the store.
func (s *procStream) deliver(k, batch, first, rows int) {
	s.dmu.Lock()
	s.out.Deliver(batch, first, rows, s.wins[k])
	s.dmu.Unlock()
}

func (s *procStream) close() error { return s.src.Close() }
