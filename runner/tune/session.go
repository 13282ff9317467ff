package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

// RunOptions are what a tune session is given by its caller (the tune
// command wires its flags and the CLI's shared services into them).
type RunOptions struct {
	// Config is the loaded config; Path is where it was read from (for the
	// resume hint).
	Config *config.Config
	Path   string
	// Budget and Points override tune.budget and tune.points when not nil.
	Budget *time.Duration
	Points *int
	// Resume is the folder of a tune to continue ("": a new tune, in a new
	// folder made by NewDir under output.dir/<name>-tune).
	Resume string
	NewDir func(base string) (string, error)

	Registry strategy.Registry
	Machine  config.Machine
	Formats  results.Formats
	Env      results.Environment
	// Command runs a worker process (the processes strategy).
	Command []string
	// Prepare loads the plan's workload (model and data) once.
	Prepare func(context.Context, *config.Plan) (workload.Workload, error)
	// Measuring is called once, just before the first step is measured
	// (the CLI makes a first Ctrl-C finish the step from there; nil: none).
	Measuring func()
	// Out hears the summary and the files written; Log the progress.
	Out, Log io.Writer
}

// session is one tune's prepared state: its settings, space and workload.
type session struct {
	o     RunOptions
	cfg   *config.Config
	set   Settings
	space *Space
	w     workload.Workload
	facts Facts
	dir   string
	prev  *State
}

// Session runs a tune from a loaded config: it checks the config and the
// tune section (one-line errors, config.Errors, before anything runs),
// derives the space, measures it through the real runner — checkpointing
// into the tune's folder after every step, resuming from it when asked —
// profiles the winner, prints the summary and writes the outputs.
func Session(ctx context.Context, o RunOptions) error {
	s, err := newSession(ctx, o)
	if err != nil {
		return err
	}
	st, err := s.search(ctx)
	if err != nil {
		return err
	}
	s.profile(ctx, st)
	// Again: the profile's why lines are the report's too.
	if err := SaveState(s.dir, st); err != nil {
		return err
	}
	Summary(o.Out, st)
	if st.Result.Infeasible != "" {
		return fmt.Errorf("no configuration meets the constraints (%s); the search is in %s", st.Result.Infeasible, s.dir)
	}
	files, err := WriteOutputs(s.dir, o.Registry, st)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(o.Out, "wrote %s\n", f)
	}
	return nil
}

// newSession checks the config and prepares the search.
func newSession(ctx context.Context, o RunOptions) (*session, error) {
	cfg := o.Config
	if len(cfg.Strategies) == 0 {
		// The space replaces strategies: a placeholder (the baseline most
		// strategies are measured against) lets Expand check the rest.
		cfg.Strategies = []map[string]any{{"strategy": mainBaseline(o.Registry)}}
	}
	plan, err := config.Expand(cfg, o.Registry, o.Machine, o.Formats.Names()...)
	if err != nil {
		return nil, err
	}
	if cfg.Workload.Dataset.Streaming {
		// Most of the space reads the whole table, and the profiled pass too.
		return nil, config.Errors{cfg.Errorf("workload.dataset.streaming", "tune measures strategies that read the whole table: tune on a sample held in memory (streaming: false, workload.rows) and run the winner streamed")}
	}
	set, err := o.settings()
	if err != nil {
		return nil, err
	}
	space, err := o.space(set)
	if err != nil {
		return nil, err
	}
	w, err := o.Prepare(ctx, plan)
	if err != nil {
		return nil, err
	}
	s := &session{o: o, cfg: cfg, set: set, space: space, w: w, dir: o.Resume,
		facts: Facts{LogicalCores: o.Machine.LogicalCores, PhysicalCores: o.Machine.PhysicalCores}}
	if cfg.Workload.Kind == "onnx" {
		if g, err := graph.Read(cfg.Abs(cfg.Workload.Model)); err == nil {
			s.facts.FlopsPerRow = g.Flops
		}
	}
	if o.Resume != "" {
		if s.prev, err = LoadState(o.Resume); err != nil {
			return nil, err
		}
	} else if s.dir, err = o.NewDir(filepath.Join(cfg.Output.Dir, cfg.Name+"-tune")); err != nil {
		return nil, err
	}
	return s, nil
}

// Check decodes and checks the config's tune section (nil: none) and
// derives its space, as tune will: validate refuses what tune would.
func (o RunOptions) Check() error {
	if o.Config.Tune == nil {
		return nil
	}
	set, err := o.settings()
	if err != nil {
		return err
	}
	_, err = o.space(set)
	return err
}

// space derives set's search space on o's machine.
func (o RunOptions) space(set Settings) (*Space, error) {
	cfg := o.Config
	space, err := set.Derive(Machine{
		LogicalCores: o.Machine.LogicalCores, PhysicalCores: o.Machine.PhysicalCores, Rows: cfg.Workload.Rows,
		Registry: o.Registry, NeedsORT: cfg.Workload.Kind == "onnx",
	})
	if err != nil {
		return nil, config.Errors{cfg.Errorf("tune", "%v", err)}
	}
	return space, nil
}

// settings are the config's tune section with the overrides applied.
func (o RunOptions) settings() (Settings, error) {
	cfg := o.Config
	set, err := Decode(cfg.Tune, cfg.Errorf)
	if cfg.Load.Server() {
		set, err = DecodeServer(cfg.Tune, SLO{Percentile: cfg.Load.SLO.Percentile, Latency: cfg.Load.SLO.Latency}, cfg.Errorf)
	}
	if err == nil && cfg.Load.Server() {
		err = serverLoad(cfg.Load, cfg.Errorf)
	}
	if err != nil {
		return set, config.Errors{err}
	}
	if o.Budget != nil {
		set.Budget = *o.Budget
	}
	if o.Points != nil {
		set.MaxPoints = *o.Points
	}
	if set.Oversubscribe > cfg.Oversubscribe {
		return set, config.Errors{cfg.Errorf("tune.oversubscribe", "%d is more than the config's oversubscribe (%d) lets a cell run; raise oversubscribe too", set.Oversubscribe, cfg.Oversubscribe)}
	}
	return set, nil
}

// search runs the tuner, checkpointing into the tune's folder.
func (s *session) search(ctx context.Context) (*State, error) {
	logw := s.o.Log
	fmt.Fprintf(logw, "tune %s: %s\n", s.cfg.Name, s.space.Describe())
	fmt.Fprintf(logw, "constraints: %s; budget %s", s.set.Constraints.Describe(), s.set.Budget)
	if s.set.MaxPoints > 0 {
		fmt.Fprintf(logw, ", at most %d points", s.set.MaxPoints)
	}
	fmt.Fprintf(logw, "; folder %s\n", s.dir)
	origin := NewOrigin(s.cfg, s.space)
	t := &Tuner{
		Space: s.space, Settings: s.set, Facts: s.facts,
		Measurer: &RunnerMeasurer{
			Config: s.cfg, Space: s.space, Registry: s.o.Registry, Machine: s.o.Machine, Workload: s.w, Formats: s.o.Formats,
			Env: s.o.Env, Command: s.o.Command, Dir: s.dir,
		},
		Checkpoint: func(st *State) error {
			st.Origin = origin
			return SaveState(s.dir, st)
		},
		Log: func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) },
	}
	if s.o.Measuring != nil {
		s.o.Measuring()
	}
	st, err := t.Run(ctx, s.prev, Identity(s.cfg.Resolved, s.space, s.set))
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, runner.ErrInterrupted) {
			return nil, fmt.Errorf("%w: the finished steps are in %s; continue with: ortbench tune -c %s --resume %s", runner.ErrInterrupted, filepath.Join(s.dir, StateFile), s.o.Path, s.dir)
		}
		return nil, err
	}
	return st, nil
}

// profile adds one profiled pass of the throughput winner (under server
// load: of the max-QPS winner, at its request's rows times its batch
// bound) to the why lines: where its time goes (operator shares, the
// thread pool's use), beside the measured "why".
func (s *session) profile(ctx context.Context, st *State) {
	obj, what := ObjectiveThroughput, "the throughput winner"
	if s.set.Server {
		obj, what = ObjectiveMaxQPS, "the max-QPS winner"
	}
	i := slices.IndexFunc(st.Result.Recommendations, func(r Recommendation) bool { return r.Objective == obj })
	if !s.w.UsesORT() || i < 0 || ctx.Err() != nil {
		return
	}
	best := st.Result.Recommendations[i].Point
	if s.set.Server {
		sv, _ := strategy.ServingOf(s.space.Config(best))
		best.Batch = max(s.cfg.Load.RequestRows, 1) * max(sv.MaxBatch, 1)
	}
	prof, _, err := ProfileWinner(ctx, s.w, runner.SessionOptions(s.cfg), best, s.dir)
	if err != nil {
		fmt.Fprintf(s.o.Log, "profile of the winner: %v\n", err)
		return
	}
	st.Result.Why = append(st.Result.Why, ProfileLines(what, best, prof)...)
}

// mainBaseline is the strategy most others measure their speedup against.
func mainBaseline(reg strategy.Registry) string {
	count := map[string]int{}
	best := ""
	for _, n := range reg.Names() {
		if b := reg[n].Baseline; b != "" {
			count[b]++
			if best == "" || count[b] > count[best] || count[b] == count[best] && b < best {
				best = b
			}
		}
	}
	return best
}
