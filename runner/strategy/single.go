package strategy

import (
	"context"
	"fmt"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// single is one goroutine over one session: sequential, intra-op and
// inter-op differ only in the session's thread settings.
type single struct {
	job    *Job
	p      *pool
	stream *streamSlot // a streamed workload's batch (streaming.go); nil in memory
}

func (s *single) Start(_ context.Context, job *Job) error {
	sh := job.Shape()
	opts := job.sessionOptions(sh.Threads, sh.InterOp, sh.Parallel)
	p, err := openPool(job, 1, 1, opts)
	if err != nil {
		return err
	}
	s.job, s.p = job, p
	if workload.Streams(job.Workload) {
		slot := newStreamSlot(job)
		s.stream = &slot
	}
	return nil
}

func (s *single) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	if s.stream != nil {
		return onWorker(s.job, 0, func() error { return streamLoop(ctx, s.job, s.p.execs[0], n, out, recs.Get(0), *s.stream) })
	}
	if !s.job.pinned() {
		return loop(ctx, s.job, s.p.execs[0], n, out, recs.Get(0)) // no closure: nothing allocated per pass
	}
	return onWorker(s.job, 0, func() error { return loop(ctx, s.job, s.p.execs[0], n, out, recs.Get(0)) })
}

// ServeRows implements RowServer on the cell's one session.
func (s *single) ServeRows(w, first, n int, out *workload.Outputs) error {
	return s.p.serveRows(s.job, w, first, n, out)
}

func (s *single) Recorders() int { return 1 }
func (s *single) Close() error   { return s.p.close() }

// sequentialConfig has no keys of its own: one goroutine, one session,
// one intra-op thread.
type sequentialConfig struct {
	Pinning
	Base
}

func (c *sequentialConfig) Validate() []error { return nil }

// It is intra-op with one thread, hybrid with one worker of one thread.
func (c *sequentialConfig) Canon() (string, map[string]any) {
	return "intra-op", map[string]any{"threads": int64(1)}
}
func (c *sequentialConfig) General() (string, map[string]any) {
	return "hybrid", map[string]any{"workers": int64(1), "threads": int64(1)}
}

// Streams: it reads a streamed dataset batch by batch (streaming.go).
func (c *sequentialConfig) Streams() string { return "" }

// Serving is its shape under server load (runner/serve).
func (c *sequentialConfig) Serving() Serving {
	return Serving{Servers: 1, MaxBatch: 1}
}

func (c *sequentialConfig) Shape() Shape { return Shape{Workers: 1, Threads: 1} }
func (c *sequentialConfig) Describe() string {
	return fmt.Sprintf("sequential: 1 goroutine%s, batch %d", sessionWord(&c.Base, 1, "1 session"), c.BatchSize)
}

func sequentialDef() Definition {
	return Definition{
		Name:      "sequential",
		Summary:   "one goroutine, one session, 1 intra-op thread: the baseline",
		NewConfig: func() Config { return &sequentialConfig{} },
		New:       func() Strategy { return &single{} },
	}
}

// intraOpConfig: one goroutine, one session with T intra-op threads.
type intraOpConfig struct {
	Threads int `key:"threads" ort:"true" auto:"cores" search:"physical" rank:"3"`
	Pinning
	Base
}

func (c *intraOpConfig) Validate() []error { return collect(atLeast("threads", c.Threads, 1)) }

// Tune tries it; it is hybrid with one worker.
func (c *intraOpConfig) Tuned() Tuning { return Tuning{Order: 1} }
func (c *intraOpConfig) General() (string, map[string]any) {
	return "hybrid", map[string]any{"workers": int64(1)}
}

// Streams: it runs as sequential does (streaming.go).
func (c *intraOpConfig) Streams() string { return "" }

// Serving is its shape under server load (runner/serve).
func (c *intraOpConfig) Serving() Serving {
	return Serving{Servers: 1, MaxBatch: 1}
}

func (c *intraOpConfig) Shape() Shape { return Shape{Workers: 1, Threads: c.Threads} }
func (c *intraOpConfig) Describe() string {
	return fmt.Sprintf("intra-op: 1 goroutine, 1 session × %s%s, batch %d", threadsWord(&c.Base, c.Threads), spinWord(&c.Base), c.BatchSize)
}

func intraOpDef() Definition {
	return Definition{
		Name:      "intra-op",
		Summary:   "one goroutine, one session with T intra-op threads (ORT's own threading)",
		NeedsORT:  true,
		Baseline:  "sequential",
		NewConfig: func() Config { return &intraOpConfig{Threads: 1} },
		New:       func() Strategy { return &single{} },
	}
}

// interOpConfig: one session in parallel execution mode.
type interOpConfig struct {
	InterOpThreads int `key:"inter_op_threads" ort:"true" auto:"cores" search:"physical" rank:"2.5"`
	Threads        int `key:"threads" ort:"true" auto:"cores" search:"physical" rank:"3"`
	Pinning
	Base
}

// Streams: it runs as sequential does (streaming.go).
func (c *interOpConfig) Streams() string { return "" }

// Tune tries it (after the strategies of one intra-op pool per session):
// one session in parallel execution mode, its intra-op threads searched.
func (c *interOpConfig) Tuned() Tuning { return Tuning{Order: 6} }

func (c *interOpConfig) Validate() []error {
	return collect(atLeast("inter_op_threads", c.InterOpThreads, 1), atLeast("threads", c.Threads, 1))
}

// Serving is its shape under server load (runner/serve).
func (c *interOpConfig) Serving() Serving {
	return Serving{Servers: 1, MaxBatch: 1}
}

func (c *interOpConfig) Shape() Shape {
	return Shape{Workers: 1, Threads: c.Threads, InterOp: c.InterOpThreads, Parallel: true}
}
func (c *interOpConfig) Resolve() { c.Facts.Parallel = true }
func (c *interOpConfig) Describe() string {
	return fmt.Sprintf("inter-op: 1 goroutine, 1 session in parallel mode × %d inter-op × %s%s, batch %d",
		c.InterOpThreads, threadsWord(&c.Base, c.Threads), spinWord(&c.Base), c.BatchSize)
}

func interOpDef() Definition {
	return Definition{
		Name:      "inter-op",
		Summary:   "one session in parallel execution mode with T inter-op threads",
		NeedsORT:  true,
		Baseline:  "sequential",
		NewConfig: func() Config { return &interOpConfig{InterOpThreads: 1, Threads: 1} },
		New:       func() Strategy { return &single{} },
	}
}
