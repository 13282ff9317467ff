package strategy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// pool is a set of engines (sessions) and the executors made from them.
type pool struct {
	engines []workload.Engine
	execs   []workload.Executor
}

// openPool opens `engines` sessions with opts and `perEngine` executors on each.
func openPool(job *Job, engines, perEngine int, opts onnx.Options) (*pool, error) {
	if workload.Streams(job.Workload) { // config.Expand refuses it; a hand-built plan may not
		if ok, why := CanStream(job.Config); !ok {
			return nil, fmt.Errorf("%s cannot run a streamed workload (workload.dataset.streaming): %s", Describe(job.Config), why)
		}
	}
	p := &pool{}
	rc := job.RowCounts
	if len(rc) == 0 {
		rc = workload.RowCounts(job.Workload.Rows(), job.BatchSize())
	}
	for i := range engines {
		o := opts
		if job.pinned() {
			// Engine i's caller thread holds slot i·T; its pool the next T−1.
			o.IntraOpAffinity = intraOpAffinity(job.layout(), i, o.IntraOpThreads)
		}
		e, err := job.Workload.Open(o)
		if err != nil {
			return nil, errors.Join(err, p.close())
		}
		p.engines = append(p.engines, e)
		for range perEngine {
			x, err := e.NewExecutor(rc...)
			if err != nil {
				return nil, errors.Join(err, p.close())
			}
			p.execs = append(p.execs, x)
		}
	}
	return p, nil
}

func (p *pool) close() error {
	if p == nil {
		return nil
	}
	var errs []error
	for _, x := range p.execs {
		errs = append(errs, x.Close())
	}
	for _, e := range p.engines {
		errs = append(errs, e.Close())
	}
	p.execs, p.engines = nil, nil
	return errors.Join(errs...)
}

// serveRows runs rows first..first+n−1 on executor w into out: the
// serving side of every in-process strategy (RowServer), on the pool its
// Start opened.
func (p *pool) serveRows(job *Job, w, first, n int, out *workload.Outputs) error {
	if w < 0 || w >= len(p.execs) {
		return fmt.Errorf("no server %d: the strategy started %d", w, len(p.execs))
	}
	width := job.Workload.RecordBytes()
	return p.execs[w].Run(job.Workload.Data()[first*width:(first+n)*width], first, out)
}

// runBatch processes batch i on executor x and records its latency: the hot
// path every in-process strategy shares. It allocates nothing.
func runBatch(job *Job, x workload.Executor, i int, out *workload.Outputs, rec *metrics.Recorder) error {
	w := job.Workload
	start, n := workload.Span(i, job.BatchSize(), w.Rows())
	width := w.RecordBytes()
	in := w.Data()[start*width : (start+n)*width]
	t0 := time.Now()
	if err := x.Run(in, start, out); err != nil {
		return fmt.Errorf("batch %d (rows %d..%d): %w", i, start, start+n-1, err)
	}
	rec.Record(time.Since(t0))
	out.Done(i)
	return nil
}

// onWorker runs fn in a new goroutine pinned to worker w's first CPU
// when the cell pins its workers, else in the calling one.
func onWorker(job *Job, w int, fn func() error) error {
	if !job.pinned() {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		if err := pinThread(job.layout().CPU(w, 0, 1)); err != nil {
			done <- err
			return // the locked thread is retired with the goroutine
		}
		done <- fn()
	}()
	return <-done
}

// loop runs batches 0..n-1 on one executor in the calling goroutine.
func loop(ctx context.Context, job *Job, x workload.Executor, n int, out *workload.Outputs, rec *metrics.Recorder) error {
	for i := range n {
		if i&63 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := runBatch(job, x, i, out, rec); err != nil {
			return err
		}
	}
	return nil
}

// The in-process strategies with a serving side serve on their own pools.
var (
	_ RowServer = (*single)(nil)
	_ RowServer = (*goroutines)(nil)
	_ RowServer = (*workerPool)(nil)
)
