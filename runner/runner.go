// Package runner is the experiment engine: it turns a Plan into Results.
// For each cell a Strategy runs the Workload over the dataset's batches —
// start-up timed apart, warm-up discarded, repetitions measured — while the
// metrics package records latencies, CPU and memory, and the verify package
// checks every repetition's outputs against a sequential reference.
//
// Results are written after every cell (atomically), so an interrupted or
// crashed run keeps what finished.
package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// ErrVerification is returned (after results are written) when any cell's
// outputs differ from the reference.
var ErrVerification = errors.New("verification failed")

// ErrInterrupted is returned when the run was stopped before every cell ran.
var ErrInterrupted = errors.New("interrupted")

// Runner runs one plan.
type Runner struct {
	Plan     *config.Plan
	Registry strategy.Registry
	Observer Observer
	Env      results.Environment
	// OutDir is the directory results are written into (created).
	OutDir string
	// Command is how to start this binary as a worker process.
	Command []string
	// Formats are the output formats this binary writes (built in main;
	// nil: the results package's own).
	Formats results.Formats
	// Now is the clock the run's timestamps come from (time.Now when nil);
	// tests inject a fixed one.
	Now func() time.Time
	// Shard marks the run as one shard of an experiment (nil: the whole
	// plan); Support names the plan's cells run only as baselines of the
	// shard's own cells (written with support_copy set).
	Shard   *results.ShardInfo
	Support map[string]bool
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// LoadWorkload builds the plan's workload; onnx.Init must have run for onnx.
func LoadWorkload(c *config.Config) (workload.Workload, error) {
	if c.Workload.Kind == "heavy-task" {
		return workload.NewHeavy(c.Workload.Items, c.Workload.Cost)
	}
	return workload.NewModel(c.Abs(c.Workload.Model), DatasetSpec(c))
}

// DatasetSpec is the config's dataset selection.
func DatasetSpec(c *config.Config) datasets.Spec {
	d := c.Workload.Dataset
	return datasets.Spec{
		Path:         c.Abs(d.Path),
		Features:     d.Features,
		TensorColumn: d.TensorColumn,
		Label:        d.Label,
		Limit:        c.Workload.Rows,
		AllowNaN:     d.AllowNaN,
	}
}

// SessionOptions are the config's base ORT options.
func SessionOptions(c *config.Config) onnx.Options {
	o := onnx.DefaultOptions()
	o.GraphOptimization = c.Session.GraphOptimization
	o.Spinning = c.Session.Spinning
	o.MemArena = c.Session.MemoryArena
	o.MemPattern = c.Session.MemoryPattern
	return o
}

// Run executes every cell and writes results into r.OutDir after each one.
// It returns the run even on error; the error is ErrVerification,
// ErrInterrupted, or a setup failure.
func (r *Runner) Run(ctx context.Context, w workload.Workload) (*results.Run, error) {
	c := r.Plan.Config
	obs := r.Observer
	if obs == nil {
		obs = NopObserver{}
	}
	run := &results.Run{
		Schema:      results.Schema,
		Experiment:  results.Experiment{Name: c.Name, Description: c.Description, ConfigPath: c.Path, ConfigSHA256: c.SHA256},
		Environment: r.Env,
		Settings: results.Settings{
			WarmupBatches: c.WarmupBatches, Repetitions: c.Repetitions, MinDurationSeconds: c.MinDuration.Seconds(),
			Tolerance: c.Verify.Tolerance, Spinning: c.Session.Spinning, GraphOptimization: c.Session.GraphOptimization,
			MemArena: c.Session.MemoryArena, MemPattern: c.Session.MemoryPattern, UnstableSpread: c.UnstableSpread,
			SampleInterval: c.SampleInterval.Seconds(),
		},
		StartedAt: r.now(),
		Warnings:  append([]string(nil), r.Plan.Warnings...),
		ParamKeys: r.Registry.ParamKeys(),
		Shard:     r.Shard,
	}
	run.RunID = fmt.Sprintf("%s-%s-%s", c.Name, run.StartedAt.Format("20060102T150405Z"), r.Env.Hostname)
	formats := r.Formats
	if formats == nil {
		formats = results.BaseFormats()
	}
	names := make([]string, len(r.Plan.Cells))
	for i, cell := range r.Plan.Cells {
		names[i] = cell.Name
	}
	obs.RunStarted(c.Name, names)
	if err := os.MkdirAll(r.OutDir, 0o755); err != nil {
		return run, err
	}
	if err := r.writeConfig(); err != nil {
		return run, err
	}

	ref, refName, err := r.reference(ctx, w)
	if err != nil {
		if ctx.Err() != nil {
			return run, fmt.Errorf("%w during the reference pass", ErrInterrupted)
		}
		return run, err
	}
	run.Settings.ReferenceCell = refName
	ver, err := verify.New(ref, refName, c.Verify.Tolerance)
	if err != nil {
		return run, c.Errorf("verify.tolerance", "%v", err)
	}

	var failed, interrupted bool
	for i, cell := range r.Plan.Cells {
		var rc results.Cell
		if ctx.Err() != nil {
			interrupted = true
			rc = r.baseCell(cell, w)
			rc.Status, rc.Error = results.StatusSkipped, "interrupted before it started"
		} else {
			obs.CellStarted(i, len(r.Plan.Cells), cell.Name, c.Repetitions)
			rc = r.runCell(ctx, i, cell, w, ver, obs)
			if ctx.Err() != nil && rc.Status != results.StatusOK {
				interrupted = true
			}
		}
		if rc.Status == results.StatusFailed {
			failed = true
		}
		run.Cells = append(run.Cells, rc)
		derive(run, r.Registry)
		run.StatusCounts = run.CountStatuses()
		obs.CellDone(i, &run.Cells[len(run.Cells)-1])
		run.FinishedAt = r.now()
		run.Interrupted = interrupted
		if _, err := formats.WriteAll(run, r.OutDir, c.Output.Formats); err != nil {
			return run, err
		}
	}
	obs.RunDone(run)
	switch {
	case interrupted:
		return run, ErrInterrupted
	case failed:
		return run, ErrVerification
	}
	return run, nil
}

func (r *Runner) writeConfig() error {
	c := r.Plan.Config
	if c.Path != "" {
		if data, err := os.ReadFile(c.Path); err == nil {
			if err := results.WriteFileAtomic(filepath.Join(r.OutDir, "config.yaml"), data); err != nil {
				return err
			}
		}
	}
	return results.WriteFileAtomic(filepath.Join(r.OutDir, "config.resolved.yaml"), c.Resolved)
}

// reference runs one unmeasured sequential pass at the first batch size;
// every cell is checked against it. With verify.expected set, the reference
// must itself match the Python notebook's predictions.
func (r *Runner) reference(ctx context.Context, w workload.Workload) (*workload.Outputs, string, error) {
	c := r.Plan.Config
	bs := c.BatchSizes[0]
	name := fmt.Sprintf("sequential/batch_size=%d", bs)
	def := r.Registry["sequential"]
	cfg, err := def.Decode(nil, bs, false, !w.UsesORT(), strategy.Machine{}, nil)
	if err != nil {
		return nil, name, err
	}
	s := def.New()
	job := &strategy.Job{Workload: w, Config: cfg, Options: SessionOptions(c)}
	if err := s.Start(ctx, job); err != nil {
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	defer s.Close()
	out := workload.NewOutputs(w.Layout(), w.Rows(), bs)
	if err := s.Pass(ctx, job.Batches(), out, metrics.NewRecorders(1)); err != nil {
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	if err := out.Coverage(job.Batches()); err != nil {
		return nil, name, fmt.Errorf("reference pass (%s): %w", name, err)
	}
	if c.Verify.Expected != "" {
		path := c.Abs(c.Verify.Expected)
		exp, err := verify.LoadExpected(path, w.Layout(), w.Rows(), c.Workload.Dataset.AllowNaN)
		if err != nil {
			return nil, name, c.Errorf("verify.expected", "%v", err)
		}
		v := verify.Verifier{Reference: exp, Tolerance: c.Verify.Tolerance}
		rep := v.Check(out, job.Batches())
		if !rep.Passed() {
			return nil, name, fmt.Errorf("%w: the reference pass differs from %s in %d rows: %s", ErrVerification, path, rep.Mismatches, rep.FirstError)
		}
		name += " (matches " + c.Verify.Expected + ")"
	}
	return out, name, nil
}
