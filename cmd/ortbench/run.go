package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	ortbench "github.com/ortbench/ortbench"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/sysinfo"
	"github.com/ortbench/ortbench/runner/tune"
	"github.com/ortbench/ortbench/runner/workload"
)

// addConfigFlags declares the flags that override config keys (see
// config.FlagKeys) on cmd.
func addConfigFlags(f *pflag.FlagSet, path *string) {
	f.StringVarP(path, "config", "c", "", "experiment file (default: the embedded "+ortbench.DefaultConfig+", with its model and data)")
	f.Int("repetitions", 0, "measured repetitions per cell (overrides repetitions)")
	f.Int("warmup", 0, "warm-up batches per cell (overrides warmup_batches)")
	f.Duration("min-duration", 0, "each repetition repeats whole passes until it has run this long (overrides min_duration)")
	f.Int("rows", 0, "use at most this many dataset rows (overrides workload.rows)")
	f.String("out", "", "results base directory (overrides output.dir)")
	f.String("ort-lib", "", "path of libonnxruntime.so (overrides onnxruntime.library and $ORTBENCH_ORT_LIB)")
	f.Bool("spinning", false, "let ORT's idle pool threads spin (overrides session.spinning)")
	f.Int64("seed", 0, "order of the interleaved rounds; a run's seed is in its results (overrides seed)")
}

// hostMachine is this host's usable cores (affinity ∩ cpuset, capped by
// the cgroup quota), its quota and topology.
func hostMachine(context.Context) config.Machine { return sysinfo.DetectMachine() }

type machineKey struct{}

// detectMachine says what the plan is expanded for (threads 0 = cores,
// oversubscription warnings): the machine runOn was given (golden tests
// pass a fixed one), else this host.
func detectMachine(ctx context.Context) config.Machine {
	if m, ok := ctx.Value(machineKey{}).(func(context.Context) config.Machine); ok {
		return m(ctx)
	}
	return hostMachine(ctx)
}

// loadPlan reads the config (the file, or with no path the embedded default
// extracted to the user's cache) and expands it. The errors of both steps
// are reported together: decoding problems and invalid values at once.
func loadPlan(ctx context.Context, path string, flags *pflag.FlagSet) (*config.Plan, error) {
	if path == "" {
		p, err := extractDefault()
		if err != nil {
			return nil, err
		}
		path = p
	}
	// Decoding is bounded (config.MaxFileBytes, MaxDepth, …), but a Ctrl-C
	// still returns at once rather than after it.
	type loaded struct {
		cfg *config.Config
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		cfg, err := config.Load(path, nil, flags)
		done <- loaded{cfg, err}
	}()
	var cfg *config.Config
	var loadErr error
	select {
	case l := <-done:
		cfg, loadErr = l.cfg, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w while reading the config", runner.ErrInterrupted)
	}
	if cfg == nil {
		return nil, loadErr
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w while reading the config", runner.ErrInterrupted)
	}
	plan, err := config.Expand(cfg, strategies(), detectMachine(ctx), formats().Names()...)
	// What can be checked on disk before running: output.dir writable,
	// verify.expected present.
	filesErr := cfg.CheckFiles()
	if loadErr == nil && err == nil && filesErr == nil {
		return plan, nil
	}
	var all config.Errors
	for _, e := range []error{loadErr, err, filesErr} {
		var errs config.Errors
		switch {
		case e == nil:
		case errors.As(e, &errs):
			all = append(all, errs...)
		default:
			all = append(all, e)
		}
	}
	return nil, all
}

// extractDefault writes the embedded default experiment, with its model and
// data, under the user's cache directory (or the temporary directory when
// there is none or it cannot be written) and returns the config's path.
func extractDefault() (string, error) {
	var bases []string
	if dir, err := os.UserCacheDir(); err == nil {
		bases = append(bases, filepath.Join(dir, "ortbench"))
	}
	bases = append(bases, filepath.Join(os.TempDir(), fmt.Sprintf("ortbench-%d", os.Getuid())))
	var err error
	for _, base := range bases {
		var p string
		if p, err = ortbench.ExtractDefault(base); err == nil {
			return p, nil
		}
		slog.Debug("cannot extract the default experiment", "dir", base, "err", err)
	}
	return "", err
}

// prepare is runner.Prepare: the workload built and the plan's memory
// checked before anything runs.
func prepare(ctx context.Context, plan *config.Plan) (workload.Workload, error) {
	return runner.Prepare(ctx, plan)
}

// streamGC makes a streaming run (workload.dataset.streaming) collect
// garbage more often: GOGC 25 unless $GOGC is set. A streamed workload's
// only garbage is the file decoder's (each row group's page buffers, each
// batch's arrays); at the default GOGC=100 the heap overshoots it by up to
// its own size, so peak RSS wandered by ±10% between identical runs, at 25
// by a few percent. Every cell of the run pays the extra collections alike.
// It returns what puts the setting back (the CLI's tests run in-process).
func streamGC(w workload.Workload) (restore func()) {
	if !workload.Streams(w) || os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(25)
	return func() { debug.SetGCPercent(old) }
}

// newRunDir creates a new run folder under base, named by the UTC time;
// a second run started in the same second gets "-2", "-3", …: the folder
// is created exclusively, so two runs never share one.
func newRunDir(base string, now time.Time) (string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	stamp := now.Format("20060102T150405Z")
	for n := 1; ; n++ {
		dir := filepath.Join(base, stamp)
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", dir, n)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !os.IsExist(err) || n >= 1000 {
			return "", err
		}
	}
}

// configArgs refuses positional arguments of run and validate, which take
// their experiment file with -c: "run FILE" gets one line saying so.
func configArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s takes no arguments: for an experiment file, use -c %s", errUsage, cmd.Name(), args[0])
}

func newRunCmd() *cobra.Command {
	var path, shardFlag string
	var quiet bool
	var mf modelFlags
	cmd := &cobra.Command{
		Use:   "run [-c FILE] [--shard i/n]",
		Short: "Run an experiment and write verified, measured results",
		Long: `Run every cell of an experiment: start-up timed apart, warm-up discarded,
repetitions measured, every output verified against a sequential reference.
Results go to <output.dir>/<name>/<UTC timestamp>/ (results.json, results.csv, …)
and a summary table is printed. Exit codes: 0 ok, 1 error, 2 invalid config,
3 a cell's outputs were wrong, 5 a cell failed to run, 130 interrupted
(finished cells are kept).`,
		Example: `  ortbench run                                  # the embedded quick experiment
  ortbench run -c configs/go-vs-ort-threads.yaml
  ortbench run -c configs/quick.yaml --repetitions 10 --seed 42 -q
  ortbench run -c configs/go-vs-ort-threads.yaml --shard 1/4
  ortbench run --model models/light_resnet50/light_resnet50.onnx
  ortbench run --model bert.onnx --shape input_ids=batch,128 --shape attention_mask=batch,128 --input input_ids=int:0,30522 --batch 1 --batch 8`,
		Args: configArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if mf.model != "" {
				if path != "" {
					return fmt.Errorf("%w: --model and -c exclude each other (--model makes its own experiment)", errUsage)
				}
				dir, err := os.MkdirTemp("", "ortbench-model-*")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if path, err = modelConfig(mf, dir); err != nil {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
			} else if len(mf.shapes)+len(mf.inputs)+len(mf.batches)+mf.items > 0 {
				return fmt.Errorf("%w: --shape, --input, --batch and --items go with --model", errUsage)
			}
			plan, err := loadPlan(ctx, path, cmd.Flags())
			if err != nil {
				return modelFlagErr(mf.model, path, err)
			}
			plan.Config.Workload.ShapeFlag = mf.model != ""
			part, err := shardPlan(cmd.Flags(), shardFlag, plan, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if part != nil {
				plan = part.Plan
			}
			w, err := prepare(ctx, plan)
			if err != nil {
				return modelFlagErr(mf.model, path, err)
			}
			defer streamGC(w)()
			defer workload.Close(w)
			finishOnInterrupt(ctx)
			c := plan.Config
			out, err := newRunDir(filepath.Join(c.Output.Dir, c.Name), time.Now().UTC())
			if err != nil {
				return err
			}
			exe, _ := os.Executable()
			env := sysinfo.Collect(ctx)
			if env.Ceiling, err = runCeiling(ctx, c, env, progressWriter(cmd.ErrOrStderr(), quiet)); err != nil {
				return err
			}
			r := &runner.Runner{
				Plan:     plan,
				Registry: strategies(),
				Formats:  formats(),
				Observer: newObserver(cmd.ErrOrStderr(), quiet),
				Env:      env,
				OutDir:   out,
				Command:  []string{exe},
			}
			if part != nil {
				r.Shard, r.Support = part.Info, part.Support
			}
			run, runErr := r.Run(ctx, w)
			if err := writeEmptyShard(part, run, out); err != nil {
				return err
			}
			if run != nil && len(run.Cells) > 0 {
				fmt.Fprintln(cmd.OutOrStdout(), results.Title(run))
				if err := results.WriteTable(run, cmd.OutOrStdout()); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "results: %s\n", out)
			}
			return runErr
		},
	}
	addConfigFlags(cmd.Flags(), &path)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	addShardFlag(cmd.Flags(), &shardFlag)
	addModelFlags(cmd.Flags(), &mf)
	return cmd
}

func newValidateCmd() *cobra.Command {
	var path string
	var shallow bool
	cmd := &cobra.Command{
		Use:   "validate [-c FILE]",
		Short: "Check an experiment file and print the expanded plan without running it",
		Example: `  ortbench validate -c configs/go-vs-ort-threads.yaml
  ortbench validate -c my-experiment.yaml --no-load   # the file alone: no model, data or ORT`,
		Args: configArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := loadPlan(cmd.Context(), path, cmd.Flags())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			c := plan.Config
			if c.Tune != nil { // the section tune reads, checked as tune will
				o := tune.RunOptions{Config: c, Registry: strategies(), Machine: detectMachine(cmd.Context())}
				if err := o.Check(); err != nil {
					return err
				}
			}
			if !shallow {
				wl, err := prepare(cmd.Context(), plan)
				if err != nil {
					return err
				}
				model, dataset := wl.Describe()
				fmt.Fprintf(w, "workload: %s", wl.Kind())
				if model != "" {
					fmt.Fprintf(w, " %s on %s", model, dataset)
				}
				if t, ok := wl.(*workload.Tensors); ok {
					fmt.Fprintf(w, " (%d items; %s", wl.Rows(), strings.Join(t.InputLines(), "; "))
				} else {
					fmt.Fprintf(w, " (%d rows × %d values", wl.Rows(), wl.RecordBytes()/4)
				}
				if workload.Streams(wl) {
					fmt.Fprint(w, ", streamed: read from the file every pass, never held whole")
				}
				fmt.Fprintln(w, ")")
				for _, warn := range plan.Warnings {
					fmt.Fprintf(w, "warning: %s\n", warn)
				}
			}
			fmt.Fprintf(w, "%s: %d cells, %d repetitions each (each ≥ %s), %d warm-up batches\n",
				c.Name, len(plan.Cells), c.Repetitions, c.MinDuration, c.WarmupBatches)
			width := 0
			for _, cell := range plan.Cells {
				width = max(width, len(cell.Name))
			}
			for _, cell := range plan.Cells {
				fmt.Fprintf(w, "  %-*s  %s\n", width, cell.Name, cell.Description)
				for _, warn := range cell.Warnings {
					fmt.Fprintf(w, "  %-*s  warning: %s\n", width, "", warn)
				}
			}
			return nil
		},
	}
	addConfigFlags(cmd.Flags(), &path)
	cmd.Flags().BoolVar(&shallow, "no-load", false, "check the file only; do not open the model, dataset or ORT library")
	return cmd
}
