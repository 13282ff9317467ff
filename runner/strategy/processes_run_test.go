package strategy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// The test binary serves as the worker (see TestMain in processes_test.go).
var workerCommand = []string{"/usr/bin/env", "ORTBENCH_STRATEGY_TEST_WORKER=1", os.Args[0], "-test.run=^$"}

// killer SIGKILLs one worker of the first cell once it is being measured,
// and cancels the run (Ctrl-C) when the third cell starts measuring.
type killer struct {
	runner.NopObserver
	t      *testing.T
	victim chan int
	cancel func()
}

func (k *killer) Phase(i int, phase string) {
	if phase != "measure" {
		return
	}
	switch i {
	case 0:
		go func() {
			time.Sleep(200 * time.Millisecond)
			kids := childPIDs()
			if len(kids) == 0 {
				k.victim <- 0
				return
			}
			_ = syscall.Kill(kids[len(kids)-1], syscall.SIGKILL)
			k.victim <- kids[len(kids)-1]
		}()
	case 2:
		go func() { time.Sleep(200 * time.Millisecond); k.cancel() }()
	}
}

func childPIDs() []int {
	var pids []int
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(data)) {
			var pid int
			fmt.Sscan(s, &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestProcessesRunSurvivesDeadWorkerAndCtrlC runs a plan through the real
// runner: a worker of the first cell is killed mid-run (that cell fails with
// a message naming the worker, its signal and its batch; the next cell
// still runs and passes), then the run is interrupted during the third
// (finished cells are kept) — and no process is left behind.
func TestProcessesRunSurvivesDeadWorkerAndCtrlC(t *testing.T) {
	// Cell after cell: the observer kills cell 0's worker and interrupts
	// cell 2 by their order.
	yaml := `
schedule: sequential
workload: {kind: heavy-task, items: 100, cost: 2000000}
batch_sizes: [2]
repetitions: 2
min_duration: 1s
warmup_batches: 0
strategies:
  - strategy: processes
    workers: 2
    transport: copy
  - strategy: processes
    workers: 2
    transport: shared
    start: per-run
  - strategy: processes
    workers: 2
    transport: [copy]
    start: per-run
  - strategy: worker-pool
    workers: 2
`
	dir := t.TempDir()
	cfg, err := config.Load(filepath.Join(dir, "x.yaml"), []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := strategy.Default()
	plan, err := config.Expand(cfg, reg, config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.LoadWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &killer{t: t, victim: make(chan int, 1), cancel: cancel}
	r := &runner.Runner{Plan: plan, Registry: reg, OutDir: filepath.Join(dir, "out"), Observer: obs,
		Env: results.Environment{LogicalCores: 2}, Command: workerCommand}
	run, err := r.Run(ctx, w)
	if !errors.Is(err, runner.ErrInterrupted) {
		t.Fatalf("run: %v, want interrupted", err)
	}
	victim := <-obs.victim
	if victim == 0 {
		t.Fatal("no worker to kill")
	}
	c0, c1, c2 := run.Cells[0], run.Cells[1], run.Cells[2]
	if c0.Status != results.StatusFailed {
		t.Fatalf("cell 0 %s (%s), want failed", c0.Status, c0.Error)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", victim), "killed by signal 9", "it held batch"} {
		if !strings.Contains(c0.Error, want) {
			t.Errorf("cell 0 error %q does not say %q", c0.Error, want)
		}
	}
	if !results.Measured(c1.Status) || !c1.Verification.Passed {
		t.Fatalf("cell 1 %s: %s", c1.Status, c1.Error)
	}
	if c1.Memory.Processes < 3 || len(c1.Memory.PerProcess) < 3 || c1.Memory.PSSSumBytes == 0 {
		t.Errorf("cell 1 memory: %+v", c1.Memory)
	}
	if _, ok := c1.Extra["worker_startup_seconds"]; !ok {
		t.Errorf("cell 1 extra lacks per-run start-ups: %v", c1.Extra)
	}
	if c1.CPU.UserSeconds <= 0 {
		t.Errorf("cell 1 CPU %+v", c1.CPU)
	}
	// Ctrl-C during cell 2: it is skipped when the interrupt cut its first
	// pass, incomplete when it cut it short of its repetitions, or keeps the
	// repetition it finished, saying so; cell 3 never starts.
	cut := c2.Status == results.StatusSkipped || c2.Status == results.StatusIncomplete || (results.Measured(c2.Status) && slices.ContainsFunc(c2.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "interrupted: 1 of 2 repetitions")
	}))
	if !cut || len(run.Cells) != 4 || run.Cells[3].Status != results.StatusSkipped {
		t.Errorf("after Ctrl-C: cell 2 %s %v, cell 3 %v", c2.Status, c2.Warnings, run.Cells[3].Status)
	}
	back, err := results.ReadJSON(filepath.Join(dir, "out", "results.json"))
	if err != nil || !results.Measured(back.Cells[1].Status) {
		t.Fatalf("finished cell not kept: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(childPIDs()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes left behind: %v", childPIDs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
