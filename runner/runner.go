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
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/serve"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// ErrVerification is returned (after results are written) when any cell's
// outputs differ from the reference.
var ErrVerification = errors.New("verification failed")

// ErrCellFailed is returned (after results are written) when a cell did
// not run to the end: a worker died, a timeout, a start-up error.
var ErrCellFailed = errors.New("a cell failed to run")

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
	// Available is the memory available to the run (config.AvailableMemory
	// when nil): it decides whether every cell can be started at once.
	Available func() uint64
	// BusyWindow is how long the machine is watched before the run for the
	// busy-machine warning (0: 500ms; < 0: not watched).
	BusyWindow time.Duration

	stores map[int]*workload.Outputs // output stores by batch size (cell.go)
	feeds  []onnx.Feed               // a Tensors workload's inputs, for its FLOPs (compute.go)
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
	if c.Workload.Dataset.Path == "" || len(c.Workload.InputSpecs) > 0 {
		return loadTensors(c) // tensors.go: generated inputs, dataset columns by input, or test data
	}
	if c.Workload.Dataset.Streaming {
		return workload.NewStream(c.Abs(c.Workload.Model), DatasetSpec(c))
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
		// An honest but huge table is refused before it is allocated.
		MaxBytes: config.AvailableMemory(),
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
// It returns the run even on error; the error is ErrVerification (a cell's
// outputs were wrong), ErrCellFailed (a cell did not run to the end), both
// joined, ErrInterrupted, or a setup failure.
//
// Its phases: the run's header, the reference and verifier, the schedule
// and the machine's noise, the cells measured (server, interleaved or
// sequential), the final write, the outcome.
func (r *Runner) Run(ctx context.Context, w workload.Workload) (*results.Run, error) {
	if t, ok := w.(*workload.Tensors); ok {
		r.feeds = t.Feeds()
	}
	rj := &runJob{r: r, ctx: ctx, w: w, obs: r.Observer, formats: r.Formats, run: r.newRun()}
	if rj.obs == nil {
		rj.obs = NopObserver{}
	}
	if rj.formats == nil {
		rj.formats = results.BaseFormats()
	}
	run := rj.run
	names := make([]string, len(r.Plan.Cells))
	for i, cell := range r.Plan.Cells {
		names[i] = cell.Name
	}
	rj.obs.RunStarted(r.Plan.Config.Name, names)
	err := rj.setUp()
	if rj.ver != nil {
		defer rj.ver.Close()
	}
	if err != nil {
		return run, err
	}
	rj.schedule()
	rj.markCeiling() // ceiling.go
	rj.profileNote() // opprofile.go
	st, err := rj.measure()
	if err != nil {
		return run, err
	}
	// The last write marks the run complete — or incomplete, when it was
	// cut short (incomplete.go) — and keeps its whole peak RSS
	// (results/manifest.go: the files agree as a set).
	seal(rj.ctx, run, st.interrupted)
	run.PeakRSSBytes = metrics.RunPeakRSS()
	if err := rj.write(); err != nil {
		return run, err
	}
	rj.obs.RunDone(run)
	return run, rj.outcome(st)
}

// incompleteReason is what a results file written during the run says.
const incompleteReason = "written while the run was still going: if nothing later completed it, the run was cut short (killed or crashed)"

// runJob is one Run call's state, shared by its phases.
type runJob struct {
	r       *Runner
	ctx     context.Context
	w       workload.Workload
	run     *results.Run
	obs     Observer
	formats results.Formats
	ver     *verify.Verifier
	kind    string // the schedule (config.ScheduleInterleaved or ScheduleSequential)
	seed    int64
}

// newRun is the run's header: experiment, environment, settings, start.
func (r *Runner) newRun() *results.Run {
	c := r.Plan.Config
	run := &results.Run{
		Schema:      results.Schema,
		Experiment:  results.Experiment{Name: c.Name, Description: c.Description, ConfigPath: c.Path, ConfigSHA256: c.SHA256},
		Environment: r.Env,
		Settings: results.Settings{
			WarmupBatches: c.WarmupBatches, Repetitions: c.Repetitions, MinDurationSeconds: c.MinDuration.Seconds(),
			Tolerance: c.Verify.Tolerance, Spinning: c.Session.Spinning, GraphOptimization: c.Session.GraphOptimization,
			MemArena: c.Session.MemoryArena, MemPattern: c.Session.MemoryPattern, UnstableSpread: c.UnstableSpread,
			SampleInterval: c.SampleInterval.Seconds(), Profile: c.Profile, Percentiles: c.Percentiles,
		},
		StartedAt: r.now(),
		Warnings:  append([]string(nil), r.Plan.Warnings...),
		ParamKeys: r.Registry.ParamKeys(),
		Shard:     r.Shard,
	}
	run.RunID = fmt.Sprintf("%s-%s-%s", c.Name, run.StartedAt.Format("20060102T150405Z"), r.Env.Hostname)
	return run
}

// setUp makes the output folder and its config files, shares the rows if
// a cell maps them, runs the reference pass and makes the verifier.
func (rj *runJob) setUp() error {
	r, c, w := rj.r, rj.r.Plan.Config, rj.w
	if err := os.MkdirAll(r.OutDir, 0o755); err != nil {
		return err
	}
	if err := r.writeConfig(); err != nil {
		return err
	}
	if err := r.shareRows(w); err != nil {
		return err
	}
	ref, refName, err := r.reference(rj.ctx, w)
	if err != nil {
		if rj.ctx.Err() != nil {
			return fmt.Errorf("%w during the reference pass", ErrInterrupted)
		}
		return err
	}
	rj.run.Settings.ReferenceCell = refName
	ver, err := verify.New(ref, refName, c.Verify.Tolerance)
	if err != nil {
		return c.Errorf("verify.tolerance", "%v", err)
	}
	ver.AllowNaN = c.Workload.Dataset.AllowNaN
	rj.ver = ver
	if !c.Load.Server() {
		// Offline cells are checked a whole pass at a time, after it is
		// timed: the reference can wait in a file (the page cache) instead
		// of the runner's memory, which every cell's RSS and PSS would
		// count. A server checks each request against it in memory.
		if err := ver.Store(""); err != nil {
			return err
		}
		debug.FreeOSMemory()
	}
	return nil
}

// schedule chooses the schedule and the seed, and watches the machine
// for other load before anything is measured.
func (rj *runJob) schedule() {
	r, c, run := rj.r, rj.r.Plan.Config, rj.run
	kind, reason := r.chooseSchedule(rj.w)
	rj.kind, rj.seed = kind, r.seed()
	run.Schedule = results.ScheduleInfo{Kind: kind, Reason: reason, TargetInterval: c.TargetInterval, MaxDurationSeconds: c.MaxDuration.Seconds()}
	if kind == config.ScheduleInterleaved {
		run.Schedule.Seed = rj.seed
	}
	if reason != "" {
		run.Warnings = append(run.Warnings, "schedule: "+reason)
	}
	run.Noise.Threshold = c.NoiseThreshold
	if r.BusyWindow >= 0 {
		window := r.BusyWindow
		if window == 0 {
			window = 500 * time.Millisecond
		}
		run.Noise.BeforeCores = busyBefore(window)
		if run.Noise.BeforeCores > c.NoiseThreshold {
			msg := fmt.Sprintf("busy machine: other processes are using %.1f of %d usable cores: expect noisy numbers", run.Noise.BeforeCores, r.Env.UsableCores())
			run.Warnings = append(run.Warnings, msg)
			note(rj.obs, msg) // now, before the cells start, not only in the summary
		}
	}
}

func (rj *runJob) write() error {
	c := rj.r.Plan.Config
	_, err := rj.formats.WriteAll(rj.run, rj.r.OutDir, c.Output.Formats)
	return err
}

// publish derives the run from the cells' current figures and writes
// every format: after every round (interleaved) or cell (sequential), so
// an interrupted run keeps what it measured.
func (rj *runJob) publish(st *runState) error {
	r, run := rj.r, rj.run
	run.Cells = run.Cells[:0]
	for _, cr := range st.cells {
		if rj.kind == config.ScheduleInterleaved {
			run.Cells = append(run.Cells, r.snapshot(cr, rj.ver))
		} else {
			run.Cells = append(run.Cells, cr.rc)
		}
	}
	run.Schedule.Rounds = st.rounds
	r.summarize(run)
	run.FinishedAt = r.now()
	run.Interrupted = st.interrupted || rj.ctx.Err() != nil
	run.Incomplete, run.IncompleteReason = true, incompleteReason
	run.PeakRSSBytes = metrics.RunPeakRSS()
	return rj.write()
}

// measure runs every cell: the server scenario through runner/serve, else
// interleaved rounds or one cell after another.
func (rj *runJob) measure() (*runState, error) {
	switch {
	case rj.r.Plan.Config.Load.Server():
		return rj.serve()
	case rj.kind == config.ScheduleInterleaved:
		return rj.interleaved()
	}
	return rj.inTurn()
}

// serve measures every cell under server load (runner/serve).
func (rj *runJob) serve() (*runState, error) {
	r, c, w, run := rj.r, rj.r.Plan.Config, rj.w, rj.run
	run.ParamKeys = append(run.ParamKeys, serve.ParamKeys...)
	st := &runState{}
	var err error
	run.Cells, err = serve.Cells(rj.ctx, serve.Env{Plan: r.Plan, Workload: w, Verifier: rj.ver, Options: SessionOptions(c), Seed: rj.seed,
		Base: func(pc config.Cell) results.Cell { return r.baseCell(pc, w) }, OutDir: r.OutDir, Progress: rj.obs.Phase,
		Registry: r.Registry, Command: r.Command, Cores: r.Env.UsableCores()}, func(cells []results.Cell) error {
		run.Cells, run.ServingVerdicts = cells, serve.Verdicts(cells)
		run.StatusCounts, run.FinishedAt = run.CountStatuses(), r.now()
		run.Incomplete, run.IncompleteReason = true, incompleteReason
		return rj.write()
	})
	run.ServingVerdicts = serve.Verdicts(run.Cells)
	run.StatusCounts, run.FinishedAt, st.interrupted = run.CountStatuses(), r.now(), rj.ctx.Err() != nil
	return st, err
}

// interleaved runs the cells in interleaved rounds, then finishes each.
func (rj *runJob) interleaved() (*runState, error) {
	r, run := rj.r, rj.run
	st, err := rj.rounds(rand.New(rand.NewPCG(uint64(rj.seed), 0x6f727462656e6368)))
	if err != nil {
		return st, err
	}
	run.Cells = run.Cells[:0]
	for _, cr := range st.cells {
		r.cut(rj.ctx, cr)
		cr.rc = r.finish(cr, rj.ver, true)
	}
	for _, cr := range st.cells {
		r.profileCell(rj.ctx, cr, rj.w) // opprofile.go: once every cell has closed
		run.Cells = append(run.Cells, cr.rc)
	}
	r.summarize(run)
	for i := range run.Cells {
		rj.obs.CellDone(i, &run.Cells[i])
	}
	run.FinishedAt = r.now()
	run.Interrupted = st.interrupted // written by the last write
	return st, nil
}

// outcome is Run's error: a failed cell either ran and gave wrong outputs
// (verification) or did not run to the end (a worker died, a timeout, a
// start-up error).
func (rj *runJob) outcome(st *runState) error {
	var wrong, broken bool
	interrupted := st.interrupted
	for i := range rj.run.Cells {
		switch cell := &rj.run.Cells[i]; cell.Status {
		case results.StatusFailed:
			// Fill names the reference only for a cell that ran to its check.
			if cell.Verification.Reference != "" && !cell.Verification.Passed {
				wrong = true
			} else {
				broken = true
			}
		case results.StatusSkipped, results.StatusIncomplete:
			interrupted = interrupted || rj.ctx.Err() != nil || cell.Status == results.StatusIncomplete
		}
	}
	switch {
	case interrupted:
		return ErrInterrupted
	case wrong && broken:
		return errors.Join(ErrVerification, ErrCellFailed)
	case wrong:
		return ErrVerification
	case broken:
		return ErrCellFailed
	}
	return nil
}

// shareRows moves the workload's rows into shared memory before anything
// reads them when a cell's worker processes map them (transport shared):
// the whole run then holds one copy of the data, not two.
func (r *Runner) shareRows(w workload.Workload) error {
	for _, cell := range r.Plan.Cells {
		if strategy.ResourcesOf(cell.Config).SharedData {
			_, err := workload.Share(w)
			return err
		}
	}
	return nil
}

// summarize derives the run-wide figures from its cells: speedups, status
// counts, noise, verdicts.
func (r *Runner) summarize(run *results.Run) {
	derive(run, r.Registry)
	run.StatusCounts = run.CountStatuses()
	run.Noise = noiseSummary(run)
	run.Verdicts = verdicts(run)
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
	if workload.Streams(w) {
		return r.streamReference(ctx, w) // stream.go
	}
	c := r.Plan.Config
	bs := c.BatchSizes[0]
	name := fmt.Sprintf("sequential/batch_size=%d", bs)
	def := r.Registry["sequential"]
	cfg, err := def.Decode(nil, strategy.DecodeOptions{Batch: bs, NoORT: !w.UsesORT()})
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
	if t, ok := w.(*workload.Tensors); ok && t.Expected() != nil {
		// The test data's outputs, made by another runtime or framework:
		// compared at the tolerance onnx's backend tests use, 1e-3, unless
		// the config allows more.
		v := verify.Verifier{Reference: t.Expected(), Tolerance: max(c.Verify.Tolerance, TestDataTolerance)}
		if rep := v.Check(out, job.Batches()); !rep.Passed() {
			return nil, name, fmt.Errorf("%w: the reference pass differs from the test data in %s in %d items: %s", ErrVerification, t.Origin().TestData, rep.Mismatches, rep.FirstError)
		}
		name += " (matches the test data)"
	}
	if c.Verify.Expected != "" {
		path := c.Abs(c.Verify.Expected)
		exp, err := verify.LoadExpected(path, w.Layout(), w.Rows(), c.Workload.Dataset.AllowNaN)
		if err != nil {
			return nil, name, c.Errorf("verify.expected", "%v", err)
		}
		v := verify.Verifier{Reference: exp, Tolerance: c.Verify.Tolerance, AllowNaN: c.Workload.Dataset.AllowNaN}
		rep := v.Check(out, job.Batches())
		if !rep.Passed() {
			return nil, name, fmt.Errorf("%w: the reference pass differs from %s in %d rows: %s", ErrVerification, path, rep.Mismatches, rep.FirstError)
		}
		name += " (matches " + c.Verify.Expected + ")"
	}
	return out, name, nil
}
