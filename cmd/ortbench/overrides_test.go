package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner"
)

// TestOverrideErrorsNameTheirSource: a bad value from the environment or a
// flag is blamed on it, not on a line of the file.
func TestOverrideErrorsNameTheirSource(t *testing.T) {
	t.Setenv("ORTBENCH_REPETITIONS", "abc")
	code, _, errs := cli(t, "validate", "--no-load")
	if code != exitInvalid || !strings.Contains(errs, `$ORTBENCH_REPETITIONS: repetitions: "abc" is not an integer`) {
		t.Errorf("exit %d\n%s", code, errs)
	}
	t.Setenv("ORTBENCH_REPETITIONS", "")
	code, _, errs = cli(t, "validate", "--no-load", "--warmup", "-1")
	if code != exitInvalid || !strings.Contains(errs, "--warmup: warmup_batches: must be ≥ 0") {
		t.Errorf("exit %d\n%s", code, errs)
	}
}

// TestEveryErrorAtOnce: an unknown key does not hide the values that are
// invalid, and each unknown key says what was probably meant.
func TestEveryErrorAtOnce(t *testing.T) {
	cfg := writeConfig(t, good+"  - strategy: goroutines\n    workers: -1\nbatch_size: 64\nrepetitions: 0\n")
	code, _, errs := cli(t, "validate", "-c", cfg)
	if code != exitInvalid {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{"batch_size: unknown key (did you mean batch_sizes?)", "repetitions: must be ≥ 1", "workers=-1/batch_size=64: must be ≥ 1, got -1"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// TestInterruptedBeforeLoading: a cancelled context (the first Ctrl-C)
// stops validate and run before the config is expanded or the workload
// loaded, as an interruption (exit 130).
func TestInterruptedBeforeLoading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := loadPlan(ctx, "configs/quick.yaml", nil); !errors.Is(err, runner.ErrInterrupted) || exitCode(err) != exitInterrupted {
		t.Errorf("loadPlan: %v", err)
	}
	plan, err := loadPlan(context.Background(), "configs/quick.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepare(ctx, plan); !errors.Is(err, runner.ErrInterrupted) {
		t.Errorf("prepare: %v", err)
	}
}
