package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/sysinfo"
	"github.com/ortbench/ortbench/runner/tune"
)

func newTuneCmd() *cobra.Command {
	var path, resume string
	var budget time.Duration
	var points int
	var quiet bool
	cmd := &cobra.Command{
		Use:   "tune -c FILE [--budget 10m] [--points N] [--resume DIR]",
		Short: "Search strategies × workers × threads × batch × spinning × affinity under constraints and recommend one",
		Long: `tune searches the configuration space of the config's workload (offline
throughput): strategies × workers × intra-op threads × batch size × spinning ×
affinity, derived from the machine or given in the config's tune: section,
bounded by its constraints (max_p99, max_rss, max_cores, min_throughput).
Under server load (load.scenario: server, with load.slo) the space is the
strategies that serve requests × workers × threads × the batcher's max_batch
and max_delay × spinning × affinity, each point served open-loop with its
SLO search, and max_qps_under_slo joins the objectives. It
measures informed starting points, then climbs the measured gradient, each
point run through the real runner beside the best so far (interleaved rounds,
outputs verified), and stops when the last few points gain too little or the
budget is spent. It writes tune.json (a checkpoint after every step: --resume
DIR continues without measuring a finished point again), tune-report.html, a
re-runnable config per objective (winner-*.yaml) and the Go session options.`,
		Example: `  ortbench tune -c configs/tune-mlp.yaml --budget 10m
  ortbench tune -c configs/tune-mlp.yaml --resume results/tune-mlp-tune/20261126T012835Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if path == "" {
				return fmt.Errorf("%w: tune needs -c FILE (a config with the workload; see configs/tune-*.yaml)", errUsage)
			}
			if cmd.Flags().Changed("budget") && budget <= 0 {
				return fmt.Errorf("%w: --budget must be > 0 (a time such as 10m), got %s", errUsage, budget)
			}
			if points < 0 {
				return fmt.Errorf("%w: --points must be ≥ 0 (0: no bound), got %d", errUsage, points)
			}
			cfg, err := config.Load(path, nil, cmd.Flags())
			if err != nil {
				return err
			}
			if len(cfg.Strategies) == 0 {
				// The space replaces strategies: a placeholder lets Expand
				// check the rest of the file.
				cfg.Strategies = []map[string]any{{"strategy": "sequential"}}
			}
			machine := detectMachine(ctx)
			reg := strategies()
			plan, err := config.Expand(cfg, reg, machine, formats().Names()...)
			if err != nil {
				return err
			}
			if cfg.Workload.Dataset.Streaming {
				// Most of the space (goroutines, worker-pool, hybrid, the
				// batcher) reads the whole table, and the profiled pass too.
				return config.Errors{cfg.Errorf("workload.dataset.streaming", "tune measures strategies that read the whole table: tune on a sample held in memory (streaming: false, workload.rows) and run the winner streamed")}
			}
			set, err := tune.Decode(cfg.Tune, cfg.Errorf)
			if cfg.Load.Server() {
				set, err = tune.DecodeServer(cfg.Tune, tune.SLO{Percentile: cfg.Load.SLO.Percentile, Latency: cfg.Load.SLO.Latency}, cfg.Errorf)
			}
			if err != nil {
				return config.Errors{err}
			}
			if cmd.Flags().Changed("budget") {
				set.Budget = budget
			}
			if cmd.Flags().Changed("points") {
				set.MaxPoints = points
			}
			if set.Oversubscribe > cfg.Oversubscribe {
				return config.Errors{cfg.Errorf("tune.oversubscribe", "%d is more than the config's oversubscribe (%d) lets a cell run; raise oversubscribe too", set.Oversubscribe, cfg.Oversubscribe)}
			}
			space, err := set.Derive(tune.Machine{
				LogicalCores: machine.LogicalCores, PhysicalCores: machine.PhysicalCores, Rows: cfg.Workload.Rows,
				Keys: tune.KeysOf(reg), Known: func(n string) bool { _, ok := reg[n]; return ok }, NeedsORT: cfg.Workload.Kind == "onnx",
				Serves: reg.Serves, ServerOnly: reg.ServerOnly,
			})
			if err != nil {
				return config.Errors{cfg.Errorf("tune", "%v", err)}
			}
			w, err := prepare(ctx, plan)
			if err != nil {
				return err
			}
			facts := tune.Facts{LogicalCores: machine.LogicalCores, PhysicalCores: machine.PhysicalCores}
			if cfg.Workload.Kind == "onnx" {
				if g, err := graph.Read(cfg.Abs(cfg.Workload.Model)); err == nil {
					facts.FlopsPerRow = g.Flops
				}
			}
			finishOnInterrupt(ctx)
			var prev *tune.State
			dir := resume
			if resume != "" {
				if prev, err = tune.LoadState(resume); err != nil {
					return err
				}
			} else if dir, err = newRunDir(filepath.Join(cfg.Output.Dir, cfg.Name+"-tune"), time.Now().UTC()); err != nil {
				return err
			}
			logw := progressWriter(cmd.ErrOrStderr(), quiet)
			fmt.Fprintf(logw, "tune %s: %s\n", cfg.Name, space.Describe())
			fmt.Fprintf(logw, "constraints: %s; budget %s", set.Constraints.Describe(), set.Budget)
			if set.MaxPoints > 0 {
				fmt.Fprintf(logw, ", at most %d points", set.MaxPoints)
			}
			fmt.Fprintf(logw, "; folder %s\n", dir)
			exe, _ := os.Executable()
			t := &tune.Tuner{
				Space: space, Settings: set, Facts: facts,
				Measurer: &tune.RunnerMeasurer{
					Config: cfg, Registry: reg, Machine: machine, Workload: w, Formats: formats(),
					Env: sysinfo.Collect(ctx), Command: []string{exe}, Dir: dir,
				},
				Checkpoint: func(s *tune.State) error { return tune.SaveState(dir, s) },
				Log:        func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) },
			}
			st, err := t.Run(ctx, prev, tune.Identity(cfg.Resolved, space, set))
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, runner.ErrInterrupted) {
					return fmt.Errorf("%w: the finished steps are in %s; continue with: ortbench tune -c %s --resume %s", runner.ErrInterrupted, filepath.Join(dir, tune.StateFile), path, dir)
				}
				return err
			}
			out := cmd.OutOrStdout()
			// One profiled pass of the throughput winner (under server
			// load: of the max-QPS winner, at its request's rows times its
			// batch bound) says where its time goes (operator shares, the
			// thread pool's use), beside the measured "why".
			obj, what := tune.ObjectiveThroughput, "the throughput winner"
			if set.Server {
				obj, what = tune.ObjectiveMaxQPS, "the max-QPS winner"
			}
			if i := slices.IndexFunc(st.Result.Recommendations, func(r tune.Recommendation) bool { return r.Objective == obj }); w.UsesORT() && i >= 0 && ctx.Err() == nil {
				best := st.Result.Recommendations[i].Point
				if set.Server {
					best.Batch = max(cfg.Load.RequestRows, 1) * max(best.MaxBatch, 1)
				}
				if prof, _, err := tune.ProfileWinner(ctx, w, runner.SessionOptions(cfg), best, dir); err == nil {
					st.Result.Why = append(st.Result.Why, tune.ProfileLines(what, best, prof)...)
				} else {
					fmt.Fprintf(logw, "profile of the winner: %v\n", err)
				}
			}
			tune.Summary(out, st)
			if st.Result.Infeasible != "" {
				return fmt.Errorf("no configuration meets the constraints (%s); the search is in %s", st.Result.Infeasible, dir)
			}
			files, err := tune.WriteOutputs(dir, cfg, st)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(out, "wrote %s\n", f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	addConfigFlags(f, &path)
	f.DurationVar(&budget, "budget", 0, "measuring time for the whole search, the confirmation included (overrides tune.budget; default 10m)")
	f.IntVar(&points, "points", 0, "at most this many distinct points (overrides tune.points; 0: no bound)")
	f.StringVar(&resume, "resume", "", "continue the tune whose folder (with its tune.json) this is")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}
