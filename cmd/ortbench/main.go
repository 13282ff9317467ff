// Command ortbench benchmarks ONNX model inference under different kinds of
// concurrency. This package only wires cobra and viper to the runner, onnx
// and datasets packages; the logic lives there.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/sysinfo"
	"github.com/ortbench/ortbench/runner/tempfiles"
)

// Exit codes, distinct so scripts can tell what happened: an invalid
// config (nothing ran), a cell whose outputs were wrong, a cell that did
// not run to the end. When a run has both kinds of failed cell, wrong
// outputs (3) win: they are the finding a benchmark exists to catch.
const (
	exitOK           = 0
	exitError        = 1
	exitInvalid      = 2
	exitVerification = 3
	exitRegression   = 4
	exitCellFailed   = 5
	exitInterrupted  = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole CLI as a function, testable without a process.
func run(args []string, stdout, stderr io.Writer) int {
	return runOn(hostMachine, args, stdout, stderr)
}

// runOn is run with plans expanded for the given machine (detectMachine
// reads it from the commands' context): tests pin one.
func runOn(machine func(context.Context) config.Machine, args []string, stdout, stderr io.Writer) int {
	ctx, stop := interruptContext(stderr)
	defer stop()
	ctx = context.WithValue(ctx, machineKey{}, machine)
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintln(stderr, "ortbench:", err)
	return code
}

func exitCode(err error) int {
	var coded interface{ ExitCode() int }
	switch {
	case errors.As(err, &coded):
		return coded.ExitCode()
	case errors.Is(err, config.ErrInvalid), errors.Is(err, errUsage):
		return exitInvalid
	case errors.Is(err, runner.ErrInterrupted), errors.Is(err, context.Canceled):
		// Only the interrupt context is ever cancelled: a command that
		// stopped on it (datasets synth mid-write, say) was interrupted.
		return exitInterrupted
	case errors.Is(err, runner.ErrVerification):
		return exitVerification
	case errors.Is(err, runner.ErrCellFailed):
		return exitCellFailed
	}
	return exitError
}

var errUsage = errors.New("usage")

// interruptContext cancels on the first SIGINT/SIGTERM and exits on the
// second. Every command stops promptly on cancellation: run finishes the
// cell under way and writes what finished (it says so with
// finishOnInterrupt, which picks the message); validate stops loading the
// workload (see prepare); datasets synth stops writing.
func interruptContext(stderr io.Writer) (context.Context, func()) {
	// The cause names the signal: an interrupted run's incomplete_reason.
	ctx, cancel := context.WithCancelCause(context.Background())
	graceful := new(atomic.Bool)
	ctx = context.WithValue(ctx, gracefulKey{}, graceful)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for s := range sig {
			n++
			if n > 1 {
				tempfiles.RemoveAll() // a write under way leaves no .tmp file
				os.Exit(exitInterrupted)
			}
			cancel(fmt.Errorf("received %v", s))
			if graceful.Load() {
				fmt.Fprintln(stderr, "\nortbench: interrupted — finishing up and writing finished cells (Ctrl-C again to quit now)")
			} else {
				fmt.Fprintln(stderr, "\nortbench: interrupted (Ctrl-C again to quit now)")
			}
		}
	}()
	// After Stop no signal is sent on sig, so closing it ends the goroutine.
	return ctx, func() { signal.Stop(sig); close(sig); cancel(nil) }
}

type gracefulKey struct{}

// finishOnInterrupt marks the running command as one that, on the first
// Ctrl-C, finishes what is under way and keeps it, so the message says so.
func finishOnInterrupt(ctx context.Context) {
	if g, ok := ctx.Value(gracefulKey{}).(*atomic.Bool); ok {
		g.Store(true)
	}
}

func newRootCmd() *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:   "ortbench",
		Short: "Benchmark ONNX model inference under different kinds of concurrency",
		Long: `ortbench answers: for this ONNX model, on this data, on this machine, which way of
running inference concurrently is fastest, at what cost in CPU and memory — and does
every way still give the same answers?

Experiments are YAML files (see configs/ and the README). Start with:
  ortbench validate -c configs/quick.yaml
  ortbench run -c configs/quick.yaml`,
		Example: `  ortbench validate -c configs/quick.yaml
  ortbench run -c configs/go-vs-ort-threads.yaml
  ortbench report results/go-vs-ort-threads
  ortbench compare baselines/quick.json results/quick --fail-on-regression 5`,
		Version:       sysinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "structured debug logs on stderr")
	root.SetVersionTemplate(versionTemplate())
	root.AddCommand(newRunCmd(), newValidateCmd(), newVersionCmd())
	root.AddCommand(extraCommands()...)
	return root
}
