package strategy

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// workerPool is N workers, each with its OWN session, fed batch indices by a
// channel — multiprocessing.Pool inside one address space. With threads > 1
// it is the hybrid strategy: W sessions × T intra-op threads.
type workerPool struct {
	job *Job
	p   *pool
}

func (wp *workerPool) Start(_ context.Context, job *Job) error {
	sh := job.Shape()
	opts := job.sessionOptions(sh.Threads, 1, false)
	p, err := openPool(job, sh.Workers, 1, opts)
	if err != nil {
		return err
	}
	wp.job, wp.p = job, p
	return nil
}

func (wp *workerPool) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	eg, ctx := errgroup.WithContext(ctx)
	tasks := make(chan int, len(wp.p.execs))
	eg.Go(func() error {
		defer close(tasks)
		for i := range n {
			select {
			case tasks <- i:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for w, x := range wp.p.execs {
		rec := recs.Get(w)
		eg.Go(func() error {
			if wp.job.pinned() {
				if err := pinThread(wp.job.layout().CPU(w, 0, wp.job.Shape().Threads)); err != nil {
					return err
				}
			}
			for i := range tasks {
				if err := runBatch(wp.job, x, i, out, rec); err != nil {
					return fmt.Errorf("worker %d: %w", w, err)
				}
			}
			return nil
		})
	}
	return eg.Wait()
}

// ServeRows implements RowServer: worker w's own session.
func (wp *workerPool) ServeRows(w, first, n int, out *workload.Outputs) error {
	return wp.p.serveRows(wp.job, w, first, n, out)
}

func (wp *workerPool) Recorders() int { return wp.job.Shape().Workers }
func (wp *workerPool) Close() error   { return wp.p.close() }

// workerPoolConfig: N workers with their own single-threaded sessions.
type workerPoolConfig struct {
	Workers int `key:"workers" auto:"cores" search:"cores" rank:"4"`
	Pinning
	Base
}

func (c *workerPoolConfig) Validate() []error { return collect(atLeast("workers", c.Workers, 1)) }

// Tune tries it; it is hybrid with one thread, and intra-op with one worker.
func (c *workerPoolConfig) Tuned() Tuning { return Tuning{Order: 2} }
func (c *workerPoolConfig) General() (string, map[string]any) {
	return "hybrid", map[string]any{"threads": int64(1)}
}
func (c *workerPoolConfig) Canon() (string, map[string]any) {
	if c.Workers == 1 {
		return "intra-op", map[string]any{"threads": int64(1)}
	}
	return "", nil
}

// Serving is its shape under server load (runner/serve).
func (c *workerPoolConfig) Serving() Serving {
	return Serving{Servers: c.Workers, MaxBatch: 1}
}

// Resources: a session per worker.
func (c *workerPoolConfig) Resources() Resources { return Resources{Sessions: c.Workers} }

func (c *workerPoolConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: 1} }
func (c *workerPoolConfig) Describe() string {
	return fmt.Sprintf("worker-pool: %s%s, batch %d", plural(c.Workers, "worker"), sessionWord(&c.Base, 1, "own session"), c.BatchSize)
}

func workerPoolDef() Definition {
	return Definition{
		Name:      "worker-pool",
		Summary:   "N workers, each with its own session, fed by a channel",
		Baseline:  "sequential",
		NewConfig: func() Config { return &workerPoolConfig{} },
		New:       func() Strategy { return &workerPool{} },
	}
}

// hybridConfig: W workers × own session × T intra-op threads.
type hybridConfig struct {
	Workers int `key:"workers" search:"cores" rank:"4"`
	Threads int `key:"threads" ort:"true" auto:"cores" search:"physical" rank:"3"`
	Pinning
	Base
}

func (c *hybridConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1), atLeast("threads", c.Threads, 1))
}

// Tune tries it, named by shape: one worker is intra-op, one thread
// each is worker-pool.
func (c *hybridConfig) Tuned() Tuning { return Tuning{Order: 3} }
func (c *hybridConfig) Canon() (string, map[string]any) {
	switch {
	case c.Workers == 1:
		return "intra-op", nil
	case c.Threads == 1:
		return "worker-pool", nil
	}
	return "", nil
}

// Serving is its shape under server load (runner/serve).
func (c *hybridConfig) Serving() Serving {
	return Serving{Servers: c.Workers, MaxBatch: 1}
}

// Resources: a session per worker.
func (c *hybridConfig) Resources() Resources { return Resources{Sessions: c.Workers} }

func (c *hybridConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *hybridConfig) Describe() string {
	return fmt.Sprintf("hybrid: %s × own session × %s%s, batch %d", plural(c.Workers, "worker"), threadsWord(&c.Base, c.Threads), spinWord(&c.Base), c.BatchSize)
}

func hybridDef() Definition {
	return Definition{
		Name:      "hybrid",
		Summary:   "W workers (own sessions) × T intra-op threads each",
		NeedsORT:  true,
		Baseline:  "sequential",
		NewConfig: func() Config { return &hybridConfig{Threads: 1} },
		New:       func() Strategy { return &workerPool{} },
	}
}
