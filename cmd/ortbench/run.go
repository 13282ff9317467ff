package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ortbench/ortbench/configs"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/sysinfo"
	"github.com/ortbench/ortbench/runner/workload"
)

// addConfigFlags declares the flags that override config keys (see
// config.FlagKeys) on cmd.
func addConfigFlags(f *pflag.FlagSet, path *string) {
	f.StringVarP(path, "config", "c", "", "experiment file (default: the embedded configs/"+configs.Default+")")
	f.Int("repetitions", 0, "measured repetitions per cell (overrides repetitions)")
	f.Int("warmup", 0, "warm-up batches per cell (overrides warmup_batches)")
	f.Duration("min-duration", 0, "each repetition repeats whole passes until it has run this long (overrides min_duration)")
	f.Int("rows", 0, "use at most this many dataset rows (overrides workload.rows)")
	f.String("out", "", "results base directory (overrides output.dir)")
	f.String("ort-lib", "", "path of libonnxruntime.so (overrides onnxruntime.library and $ORTBENCH_ORT_LIB)")
	f.Bool("spinning", false, "let ORT's idle pool threads spin (overrides session.spinning)")
}

// loadPlan reads the config (file or embedded default) and expands it.
func loadPlan(ctx context.Context, path string, flags *pflag.FlagSet) (*config.Plan, error) {
	var data []byte
	if path == "" {
		b, err := configs.Files.ReadFile(configs.Default)
		if err != nil {
			return nil, err
		}
		data, path = b, filepath.Join("configs", configs.Default)
	}
	cfg, err := config.Load(path, data, flags)
	if err != nil {
		return nil, err
	}
	m := config.Machine{LogicalCores: sysinfo.LogicalCores(ctx), PhysicalCores: sysinfo.PhysicalCores(ctx)}
	return config.Expand(cfg, strategy.Default(), m)
}

// prepare loads ORT when the workload needs it and builds the workload:
// a missing model, a missing dataset column or a width mismatch fails here,
// before anything is measured.
func prepare(plan *config.Plan) (workload.Workload, error) {
	c := plan.Config
	if c.Workload.Kind == "onnx" {
		path, version, err := onnx.Init(c.Abs(c.ONNXRuntime.Library))
		if err != nil {
			return nil, err
		}
		slog.Debug("onnxruntime loaded", "path", path, "version", version)
		if _, err := os.Stat(c.Abs(c.Workload.Model)); err != nil {
			return nil, config.Errors{c.Errorf("workload.model", "%s: %v", c.Abs(c.Workload.Model), errNotFound(err))}
		}
		if _, err := os.Stat(c.Abs(c.Workload.Dataset.Path)); err != nil {
			return nil, config.Errors{c.Errorf("workload.dataset.path", "%s: %v", c.Abs(c.Workload.Dataset.Path), errNotFound(err))}
		}
	}
	w, err := runner.LoadWorkload(c)
	if err != nil {
		return nil, config.Errors{c.Errorf("workload", "%v", err)}
	}
	return w, nil
}

func errNotFound(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("no such file (paths are relative to the config file's directory)")
	}
	return err
}

func newRunCmd() *cobra.Command {
	var path string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "run [-c FILE]",
		Short: "Run an experiment and write verified, measured results",
		Long: `Run every cell of an experiment: start-up timed apart, warm-up discarded,
repetitions measured, every output verified against a sequential reference.
Results go to <output.dir>/<name>/<UTC timestamp>/ (results.json, results.csv, …)
and a summary table is printed. Exit codes: 0 ok, 1 error, 2 invalid config,
3 verification failed, 130 interrupted (finished cells are kept).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			plan, err := loadPlan(ctx, path, cmd.Flags())
			if err != nil {
				return err
			}
			w, err := prepare(plan)
			if err != nil {
				return err
			}
			c := plan.Config
			stamp := time.Now().UTC().Format("20060102T150405Z")
			out := filepath.Join(c.Output.Dir, c.Name, stamp)
			exe, _ := os.Executable()
			r := &runner.Runner{
				Plan:     plan,
				Registry: strategy.Default(),
				Observer: newObserver(cmd.ErrOrStderr(), quiet),
				Env:      sysinfo.Collect(ctx),
				OutDir:   out,
				Command:  []string{exe},
			}
			run, runErr := r.Run(ctx, w)
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
	return cmd
}

func newValidateCmd() *cobra.Command {
	var path string
	var shallow bool
	cmd := &cobra.Command{
		Use:   "validate [-c FILE]",
		Short: "Check an experiment file and print the expanded plan without running it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := loadPlan(cmd.Context(), path, cmd.Flags())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			c := plan.Config
			if !shallow {
				wl, err := prepare(plan)
				if err != nil {
					return err
				}
				model, dataset := wl.Describe()
				fmt.Fprintf(w, "workload: %s", wl.Kind())
				if model != "" {
					fmt.Fprintf(w, " %s on %s", model, dataset)
				}
				fmt.Fprintf(w, " (%d rows × %d values)\n", wl.Rows(), wl.Width())
			}
			fmt.Fprintf(w, "%s: %d cells, %d repetitions each (each ≥ %s), %d warm-up batches\n",
				c.Name, len(plan.Cells), c.Repetitions, c.MinDuration, c.WarmupBatches)
			for _, cell := range plan.Cells {
				fmt.Fprintf(w, "  %-50s %s\n", cell.Name, cell.Description)
				for _, warn := range cell.Warnings {
					fmt.Fprintf(w, "  %-50s warning: %s\n", "", warn)
				}
			}
			return nil
		},
	}
	addConfigFlags(cmd.Flags(), &path)
	cmd.Flags().BoolVar(&shallow, "no-load", false, "check the file only; do not open the model, dataset or ORT library")
	return cmd
}
