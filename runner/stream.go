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
// every cell's batches are checked against it as they are made. It returns
// the pass's streaming store, whose sink is that file (verify.New reads it
// from there).
func (r *Runner) streamReference(ctx context.Context, w workload.Workload) (*workload.Outputs, string, error) {
	c := r.Plan.Config
	bs := c.BatchSizes[0]
	name := fmt.Sprintf("sequential/batch_size=%d", bs)
	if c.Verify.Expected != "" { // config.Expand refuses it; a hand-built plan may not
		return nil, name, c.Errorf("verify.expected", "cannot be checked under workload.dataset.streaming (the expected file would be held whole)")
	}
	def := r.Registry["sequential"]
	cfg, err := def.Decode(nil, bs, false, false, strategy.Machine{}, nil)
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
	out := workload.NewStreamOutputs(w.Layout(), w.Rows(), bs, stored)
	err = s.Pass(ctx, job.Batches(), out, metrics.NewRecorders(1))
	if err == nil {
		err = stored.Err()
	}
	if err == nil {
		err = out.Coverage(job.Batches())
	}
	if err != nil {
		stored.Close()
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	return out, name, nil
}
