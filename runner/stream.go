package runner

import (
	"context"
	"fmt"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// streamReference is reference for a streamed workload
// (workload.dataset.streaming): the sequential pass writes each batch's
// outputs into a file (verify.Stored) instead of a store in memory, and
// every cell's batches are checked against it as they are made. With
// verify.expected set, each batch is also compared, as it is made, with the
// expected file read alongside (verify.ExpectedStream). It returns the
// pass's streaming store, whose sink is that file (verify.New reads it from
// there).
func (r *Runner) streamReference(ctx context.Context, w workload.Workload) (*workload.Outputs, string, error) {
	c := r.Plan.Config
	bs := c.BatchSizes[0]
	name := fmt.Sprintf("sequential/batch_size=%d", bs)
	def := r.Registry["sequential"]
	cfg, err := def.Decode(nil, strategy.DecodeOptions{Batch: bs})
	if err != nil {
		return nil, name, err
	}
	stored, err := verify.NewStored("", w.Layout(), w.Rows())
	if err != nil {
		return nil, name, err
	}
	s := def.New()
	job := &strategy.Job{Workload: w, Config: cfg, Options: SessionOptions(c)}
	if err := s.Start(ctx, job); err != nil {
		stored.Close()
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	defer s.Close()
	var sink workload.Sink = stored
	var exp *verify.ExpectedStream
	if c.Verify.Expected != "" {
		path := c.Abs(c.Verify.Expected)
		if exp, err = verify.OpenExpected(path, w.Layout(), w.Rows(), bs, c.Workload.Dataset.AllowNaN, c.Verify.Tolerance); err != nil {
			stored.Close()
			return nil, name, c.Errorf("verify.expected", "%v", err)
		}
		defer exp.Close()
		sink = tee{stored, exp}
	}
	pass := workload.NewStreamOutputs(w.Layout(), w.Rows(), bs, sink)
	err = s.Pass(ctx, job.Batches(), pass, metrics.NewRecorders(1))
	if err == nil {
		err = stored.Err()
	}
	if err == nil {
		err = pass.Coverage(job.Batches())
	}
	if err != nil {
		stored.Close()
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	if exp != nil {
		if rep := exp.Report(); !rep.Passed() || rep.RowsChecked != w.Rows() {
			stored.Close()
			return nil, name, fmt.Errorf("%w: the reference pass differs from %s in %d rows (%d of %d checked): %s",
				ErrVerification, c.Abs(c.Verify.Expected), rep.Mismatches, rep.RowsChecked, w.Rows(), rep.FirstError)
		}
		name += " (matches " + c.Verify.Expected + ")"
	}
	// verify.New finds the file as the store's sink.
	return workload.NewStreamOutputs(w.Layout(), w.Rows(), bs, stored), name, nil
}

// tee is a Sink that hands every batch to two sinks.
type tee [2]workload.Sink

func (t tee) Batch(start, n int, win *workload.Outputs) {
	t[0].Batch(start, n, win)
	t[1].Batch(start, n, win)
}

func (t tee) Reset() {
	t[0].Reset()
	t[1].Reset()
}
