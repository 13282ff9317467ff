package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/ceiling"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

func newCeilingCmd() *cobra.Command {
	var output, lib string
	var threads int
	var duration time.Duration
	var cached, spinning bool
	cmd := &cobra.Command{
		Use:   "ceiling",
		Short: "Measure the machine's compute (GFLOP/s) and bandwidth (GB/s) ceilings through ONNX Runtime",
		Long: `ceiling runs a generated MatMul-only ONNX model (X [256, 1024] × W [1024, 1024],
float32) and a generated bandwidth-bound one (Y = X + B, vectors of 2²³ float32,
96 MiB moved a run) through the same ONNX Runtime library and session options a
run uses, on 1…N cores — one session with N intra-op threads, and N one-thread
sessions at once — and prints the best and the median GFLOP/s and GB/s of the
better way at each. The result
is cached per machine, ORT version and settings under the user's cache directory;
--cached prints the cached one without measuring. A config with ` + "`ceiling: true`" + `
measures it at the start of the run and compares every cell with it.`,
		Example: `  ortbench ceiling
  ortbench ceiling --threads 2 --duration 3s -o json
  ortbench ceiling --cached`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			if _, _, err := onnx.Init(lib); err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
			ctx := cmd.Context()
			env := sysinfo.Collect(ctx)
			opts := onnx.DefaultOptions()
			opts.Spinning = spinning
			s := ceiling.Defaults(env.UsableCores(), opts)
			if err := ceilingFlags(cmd, &s, threads, duration, env.UsableCores()); err != nil { // guard.go
				return err
			}
			path, err := ceiling.CacheFile(env, s)
			if err != nil {
				return err
			}
			var c *results.Ceiling
			if cached {
				if c, err = ceiling.Load(path); err != nil {
					return err
				}
			} else {
				if output != "json" {
					fmt.Fprintf(cmd.ErrOrStderr(), "measuring matmul and add on 1…%d cores (%s each)\n", s.MaxThreads, s.Duration)
				}
				if c, err = ceiling.Measure(ctx, s, nil); err != nil {
					return err
				}
				if err := ceiling.Save(c, path); err != nil {
					return err
				}
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(c)
			}
			return writeCeiling(cmd.OutOrStdout(), env, c)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path of libonnxruntime.so (default: $ORTBENCH_ORT_LIB, then .ort/)")
	cmd.Flags().IntVar(&threads, "threads", 0, "measure on 1…N cores (default: the logical cores)")
	cmd.Flags().DurationVar(&duration, "duration", 0, "time per core count, both ways (default 2s, in 5 trials each)")
	cmd.Flags().BoolVar(&cached, "cached", false, "print the cached ceiling for these settings; do not measure")
	cmd.Flags().BoolVar(&spinning, "spinning", false, "let ORT's idle pool threads spin (as session.spinning)")
	return cmd
}

func writeCeiling(w io.Writer, env results.Environment, c *results.Ceiling) error {
	state := "measured"
	if c.Cached {
		state = "cached, measured"
	}
	fmt.Fprintf(w, "%s, %d logical cores, ORT %s — %s %s\n", env.CPUModel, env.LogicalCores, c.OnnxruntimeVersion, state, c.MeasuredAt.Local().Format(time.DateTime))
	fmt.Fprintf(w, "model: %s (%.0f MFLOP a run); %s\n", c.Model, float64(c.FlopsPerRun)/1e6, c.Options)
	if c.BandwidthModel != "" {
		fmt.Fprintf(w, "bandwidth model: %s (%.0f MiB moved a run)\n", c.BandwidthModel, float64(c.BandwidthBytesPerRun)/(1<<20))
	}
	orDash := func(v float64) string {
		if v <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cores\tbest GFLOP/s\tmedian GFLOP/s\tway\tintra-op\tsessions\tbest GB/s\tmedian GB/s\tway\tintra-op\tsessions\t")
	for _, p := range c.Points {
		bway := p.BandwidthWay
		if bway == "" {
			bway = "-"
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Threads, p.GFLOPS, p.MedianGFLOPS, p.Way, p.IntraOpGFLOPS, orDash(p.SessionsGFLOPS),
			orDash(p.BandwidthGBPS), orDash(p.MedianBandwidthGBPS), bway, orDash(p.IntraOpBandwidthGBPS), orDash(p.SessionsBandwidthGBPS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if c.Cache != "" {
		fmt.Fprintf(w, "cache: %s\n", c.Cache)
	}
	return nil
}

// runCeiling measures the ceiling for a run whose config sets `ceiling:
// true`, with the run's session options, and caches it; nil when the
// config does not ask. ORT must be loaded (prepare).
func runCeiling(ctx context.Context, c *config.Config, env results.Environment, progress io.Writer) (*results.Ceiling, error) {
	if !c.Ceiling {
		return nil, nil
	}
	s := ceiling.Defaults(env.UsableCores(), runner.SessionOptions(c))
	again := " (once, before the run: the sequential schedule)"
	if c.Schedule != config.ScheduleSequential {
		again = " (and again every interleaved round, as a burst among the cells)"
	}
	fmt.Fprintf(progress, "ceiling: measuring matmul [%d,%d]x[%d,%d] and add [1,%d] on 1…%d cores%s\n", s.Batch, s.K, s.K, s.N, s.BandwidthElems, s.MaxThreads, again)
	cl, err := ceiling.Measure(ctx, s, nil)
	if err != nil {
		return nil, err
	}
	if path, err := ceiling.CacheFile(env, s); err == nil {
		_ = ceiling.Save(cl, path) // the cache is a convenience; the run has the ceiling
	}
	return cl, nil
}

// progressWriter is where a command's progress lines go: nowhere with -q.
func progressWriter(w io.Writer, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}
