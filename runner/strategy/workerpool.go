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
	opts := job.sessionOptions(job.Params.Threads, 1, false)
	p, err := openPool(job, job.Params.Workers, 1, opts)
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

func (wp *workerPool) Recorders() int { return wp.job.Params.Workers }
func (wp *workerPool) Close() error   { return wp.p.close() }

func workerPoolDef() Definition {
	return Definition{
		Name:    "worker-pool",
		Summary: "N workers, each with its own session, fed by a channel",
		Keys:    []string{"workers", "spinning"},
		Defaults: func(p *Params) {
			p.Threads = 1
		},
		Validate: func(p Params) error { return atLeast("workers", p.Workers, 1) },
		Describe: func(p Params) string {
			return fmt.Sprintf("worker-pool: %s%s, batch %d", plural(p.Workers, "worker"), sessionWord(p, "own session"), p.BatchSize)
		},
		New: func() Strategy { return &workerPool{} },
	}
}

func hybridDef() Definition {
	return Definition{
		Name:     "hybrid",
		Summary:  "W workers (own sessions) × T intra-op threads each",
		Keys:     []string{"workers", "threads", "spinning"},
		NeedsORT: true,
		Defaults: func(*Params) {},
		Validate: workersAndThreads,
		Describe: func(p Params) string {
			return fmt.Sprintf("hybrid: %d workers × own session × %s%s, batch %d", p.Workers, threadsWord(p), spinWord(p), p.BatchSize)
		},
		New: func() Strategy { return &workerPool{} },
	}
}
