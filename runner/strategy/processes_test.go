package strategy

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

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procpool"
	"github.com/ortbench/ortbench/runner/workload"
)

// workerEnv makes this test binary serve as a worker process when the
// processes strategy starts it (the re-exec trick: the real binary's hidden
// `worker` subcommand calls the same procpool.ServeFDs). It builds nothing
// and tests the very code the binary runs.
const workerEnv = "ORTBENCH_STRATEGY_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := procpool.ServeFDs(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testWorkerCommand is Job.Command for tests: this test binary as a worker.
func testWorkerCommand() []string {
	return []string{"/usr/bin/env", workerEnv + "=1", os.Args[0], "-test.run=^$"}
}

func processesJob(w workload.Workload, p tp) *Job {
	def := processesDef()
	return &Job{Workload: w, Config: conf(def, p), Options: onnx.DefaultOptions(), Command: testWorkerCommand()}
}

func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i > 0 && len(data) > i+2 && data[i+2] != 'Z'
}

// children lists this process's live child processes.
func children(t *testing.T) []int {
	t.Helper()
	var pids []int
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(data)) {
			var pid int
			fmt.Sscan(s, &pid)
			if alive(pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func requireNoChildren(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := children(t)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left behind: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProcessesDefinition(t *testing.T) {
	def := processesDef()
	p := tp{Workers: 2, BatchSize: 8}
	if c := conf(def, p).(*processesConfig); c.Transport != "shared" || c.Start != "warm" || c.Threads != 1 {
		t.Fatalf("defaults: %+v", c)
	}
	if err := validate(def, p); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []tp{
		{Workers: 2, Threads: 1, Transport: "pickle", Start: "warm"},
		{Workers: 2, Threads: 1, Transport: "copy", Start: "fork"},
		{Workers: 0, Threads: 1, Transport: "copy", Start: "warm"},
	} {
		err := validate(def, bad)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: got %v, want a one-line error", bad, err)
		}
	}
	if err := validate(def, tp{Workers: 1, Threads: 1, Transport: "pickle", Start: "warm"}); err == nil || !strings.Contains(err.Error(), "copy") || !strings.Contains(err.Error(), "shared") {
		t.Errorf("the error should list the valid transports: %v", err)
	}
	if d := describe(def, p); !strings.Contains(d, "transport shared") || !strings.Contains(d, "start warm") {
		t.Errorf("describe: %s", d)
	}
}

// TestProcessesIdenticalOutputs: every transport × start mode gives the
// sequential strategy's outputs, on the heavy task and (where ORT and the
// committed model are present) on a real model.
func TestProcessesIdenticalOutputs(t *testing.T) {
	heavy, err := workload.NewHeavy(203, 3000)
	if err != nil {
		t.Fatal(err)
	}
	loads := []workload.Workload{heavy}
	model := filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx")
	if _, _, err := onnx.Init(""); err != nil {
		t.Logf("ONNX Runtime not loaded (%v): heavy task only", err)
	} else if _, err := os.Stat(model); err != nil {
		t.Logf("no %s: heavy task only", model)
	} else {
		m, err := workload.NewModel(model, datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		loads = append(loads, m)
	}
	for _, w := range loads {
		ref := runAll(t, sequentialDef(), w, tp{BatchSize: 7})
		for _, transport := range []string{"copy", "shared"} {
			for _, start := range []string{"warm", "per-run"} {
				t.Run(fmt.Sprintf("%s/%s/%s", w.Kind(), transport, start), func(t *testing.T) {
					out := runAll(t, processesDef(), w, tp{Workers: 2, BatchSize: 7, Transport: transport, Start: start})
					for k := range ref.Layout {
						if !slices.Equal(out.I64[k], ref.I64[k]) || !slices.Equal(out.F32[k], ref.F32[k]) {
							t.Fatalf("output %s differs from the sequential strategy's", ref.Layout[k].Name)
						}
					}
					requireNoChildren(t)
				})
			}
		}
	}
}

// startPass starts the strategy and runs a pass in the background.
func startPass(t *testing.T, s *processes, ctx context.Context, w workload.Workload, p tp) (*Job, chan error) {
	t.Helper()
	job := processesJob(w, p)
	if err := s.Start(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		out := workload.NewOutputs(w.Layout(), w.Rows(), job.BatchSize())
		done <- s.Pass(ctx, job.Batches(), out, metrics.NewRecorders(s.Recorders()))
	}()
	return job, done
}

// slowHeavy is a heavy task whose batches take long enough to be caught in
// the middle (~0.1 s an item).
func slowHeavy(t *testing.T) workload.Workload {
	w, err := workload.NewHeavy(40, 50_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func waitPIDs(t *testing.T, s *processes, n int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pids := s.PIDs(); len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProcessesWorkerKilled(t *testing.T) {
	for _, start := range []string{"warm", "per-run"} {
		t.Run(start, func(t *testing.T) {
			s := &processes{}
			_, done := startPass(t, s, context.Background(), slowHeavy(t), tp{Workers: 2, BatchSize: 1, Transport: "copy", Start: start})
			pids := waitPIDs(t, s, 2)
			time.Sleep(150 * time.Millisecond)
			if err := syscall.Kill(pids[1], syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("pass did not end after a worker died")
			}
			if err == nil {
				t.Fatal("pass succeeded with a dead worker")
			}
			for _, want := range []string{"worker 1", fmt.Sprintf("pid %d", pids[1]), "killed by signal 9", "it held batch"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if cerr := s.Close(); cerr != nil {
				t.Logf("close: %v", cerr)
			}
			requireNoChildren(t)
		})
	}
}

func TestProcessesStuckWorkerTimesOut(t *testing.T) {
	w, _ := workload.NewHeavy(400, 1000)
	s := &processes{taskTimeout: 500 * time.Millisecond}
	job := processesJob(w, tp{Workers: 2, BatchSize: 1, Transport: "shared", Start: "warm"})
	if err := s.Start(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	pids := s.PIDs()
	if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	out := workload.NewOutputs(w.Layout(), w.Rows(), 1)
	t0 := time.Now()
	err := s.Pass(context.Background(), job.Batches(), out, metrics.NewRecorders(2))
	if !errors.Is(err, procpool.ErrTimeout) || !strings.Contains(err.Error(), "worker 0") {
		t.Fatalf("got %v, want a timeout naming worker 0", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("stuck worker detected after %s", d)
	}
	// The pool is broken now: a further pass says why instead of hanging.
	if err := s.Pass(context.Background(), 1, out, metrics.NewRecorders(2)); err == nil || !strings.Contains(err.Error(), "earlier failure") {
		t.Fatalf("pass on a broken pool: %v", err)
	}
	_ = s.Close()
	requireNoChildren(t)
}

func TestProcessesCancel(t *testing.T) {
	for _, start := range []string{"warm", "per-run"} {
		t.Run(start, func(t *testing.T) {
			s := &processes{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, done := startPass(t, s, ctx, slowHeavy(t), tp{Workers: 2, BatchSize: 1, Transport: "shared", Start: start})
			waitPIDs(t, s, 2)
			time.Sleep(100 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("pass did not stop on cancel")
			}
			_ = s.Close()
			requireNoChildren(t)
		})
	}
}

func TestProcessesAccounting(t *testing.T) {
	w, _ := workload.NewHeavy(64, 3_000_000)
	for _, start := range []string{"warm", "per-run"} {
		t.Run(start, func(t *testing.T) {
			s := &processes{}
			job := processesJob(w, tp{Workers: 2, BatchSize: 4, Transport: "shared", Start: start})
			if err := s.Start(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The shared file is unlinked as soon as it is written: a crash
			// cannot leave it behind in /dev/shm.
			if left, _ := filepath.Glob(filepath.Join(datasets.SharedDir(), "ortbench-shared-*")); len(left) > 0 {
				t.Errorf("shared files left on disk: %v", left)
			}
			out := workload.NewOutputs(w.Layout(), w.Rows(), 4)
			cpu0 := s.TreeCPU()
			if err := s.Pass(context.Background(), job.Batches(), out, metrics.NewRecorders(2)); err != nil {
				t.Fatal(err)
			}
			// 64 items × 3M rounds is ~0.2 s of CPU, all of it in the workers.
			if cpu := s.TreeCPU().Sub(cpu0).Total(); cpu < 0.05 {
				t.Errorf("workers' CPU time %.3fs, want the pass's work counted", cpu)
			}
			r := s.Report()
			if _, ok := r["shared_file_bytes"]; !ok {
				t.Errorf("report lacks the shared file: %v", r)
			}
			if _, ok := r["worker_startup_seconds"]; ok != (start == "per-run") {
				t.Errorf("report %v: per-run start-ups only for per-run", r)
			}
		})
	}
}
