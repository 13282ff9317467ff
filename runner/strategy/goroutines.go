package strategy

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// goroutines is N goroutines sharing ONE session (ORT's Run is safe for
// concurrent calls), each claiming the next batch from an atomic counter —
// what threads over one model look like in free-threaded Python.
type goroutines struct {
	job *Job
	p   *pool
}

func (g *goroutines) Start(_ context.Context, job *Job) error {
	sh := job.Shape()
	opts := job.sessionOptions(sh.Threads, 1, false)
	p, err := openPool(job, 1, sh.Workers, opts)
	if err != nil {
		return err
	}
	g.job, g.p = job, p
	return nil
}

func (g *goroutines) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	var next atomic.Int64
	eg, ctx := errgroup.WithContext(ctx)
	for w, x := range g.p.execs {
		rec := recs.Get(w)
		eg.Go(func() error {
			if g.job.pinned() {
				if err := pinThread(g.job.layout().CPU(w, 0, 1)); err != nil {
					return err
				}
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err := runBatch(g.job, x, i, out, rec); err != nil {
					return fmt.Errorf("goroutine %d: %w", w, err)
				}
			}
		})
	}
	return eg.Wait()
}

// ServeRows implements RowServer: goroutine w's executor on the shared session.
func (g *goroutines) ServeRows(w, first, n int, out *workload.Outputs) error {
	return g.p.serveRows(g.job, w, first, n, out)
}

func (g *goroutines) Recorders() int { return g.job.Shape().Workers }
func (g *goroutines) Close() error   { return g.p.close() }

// goroutinesConfig: N goroutines over one shared session.
type goroutinesConfig struct {
	Workers int `key:"workers" auto:"cores" search:"cores" rank:"4"`
	Threads int `key:"threads" ort:"true" auto:"cores" search:"physical" rank:"3"`
	Pinning
	Base
}

// Tune tries it; one goroutine on its session is intra-op.
func (c *goroutinesConfig) Tuned() Tuning { return Tuning{Order: 4} }
func (c *goroutinesConfig) Canon() (string, map[string]any) {
	if c.Workers == 1 {
		return "intra-op", nil
	}
	return "", nil
}

func (c *goroutinesConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1), atLeast("threads", c.Threads, 1))
}

// Serving is its shape under server load (runner/serve).
func (c *goroutinesConfig) Serving() Serving {
	return Serving{Servers: c.Workers, MaxBatch: 1}
}

func (c *goroutinesConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *goroutinesConfig) Describe() string {
	return fmt.Sprintf("goroutines: %s%s, batch %d", plural(c.Workers, "goroutine"), sessionWord(&c.Base, c.Threads, "1 shared session"), c.BatchSize)
}

func goroutinesDef() Definition {
	return Definition{
		Name:      "goroutines",
		Summary:   "N goroutines share one session, each takes the next batch",
		Baseline:  "sequential",
		NewConfig: func() Config { return &goroutinesConfig{Threads: 1} },
		New:       func() Strategy { return &goroutines{} },
	}
}
