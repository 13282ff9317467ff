package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

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
DIR continues without measuring a finished point again), tune-report.html,
every point measured in tune-points.csv and tune-points.parquet, a
re-runnable config per objective (winner-*.yaml) and the Go session options;
` + "`ortbench report DIR`" + ` makes all of them again from tune.json alone.`,
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
			exe, _ := os.Executable()
			o := tune.RunOptions{
				Config: cfg, Path: path, Resume: resume,
				NewDir:   func(base string) (string, error) { return newRunDir(base, time.Now().UTC()) },
				Registry: strategies(), Machine: detectMachine(ctx), Formats: formats(), Env: sysinfo.Collect(ctx),
				Command: []string{exe}, Prepare: prepare, Measuring: func() { finishOnInterrupt(ctx) },
				Out: cmd.OutOrStdout(), Log: progressWriter(cmd.ErrOrStderr(), quiet),
			}
			if cmd.Flags().Changed("budget") {
				o.Budget = &budget
			}
			if cmd.Flags().Changed("points") {
				o.Points = &points
			}
			return tune.Session(ctx, o)
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
