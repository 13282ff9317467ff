package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// chaosConfig is a short heavy-task run (no model, so no ONNX Runtime
// library needed) over every kind of worker: goroutines, a pool, a
// pipeline, worker processes and, when the venv exists, a Python runner.
const chaosConfig = `name: chaos
workload:
  kind: heavy-task
  items: 64
  cost: 20000
batch_sizes: [4]
warmup_batches: 2
repetitions: 3
min_duration: 30ms
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: 2
  - strategy: worker-pool
    workers: 2
  - strategy: processes
    workers: 2
  - strategy: pipeline
    workers: 2
`

var (
	chaosOnce sync.Once
	chaosBin  string
	chaosErr  error
)

// builtBinary builds ortbench once into a temporary folder.
func builtBinary(t *testing.T) string {
	t.Helper()
	chaosOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ortbench-chaos-bin")
		if err != nil {
			chaosErr = err
			return
		}
		chaosBin = filepath.Join(dir, "ortbench")
		out, err := exec.Command("go", "build", "-o", chaosBin, "github.com/ortbench/ortbench/cmd/ortbench").CombinedOutput()
		if err != nil {
			chaosErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if chaosErr != nil {
		t.Fatal(chaosErr)
	}
	return chaosBin
}

// TestChaos starts runs of the built binary and kills (SIGKILL) or
// interrupts (SIGINT, SIGTERM) each at a random, seeded moment
// ($ORTBENCH_CHAOS_SEED, default 1; $ORTBENCH_CHAOS_TRIALS, default 9).
// After each: every results folder is either complete and consistent
// (results.json whole and matching manifest.json, every derived file
// too) or marked incomplete; nothing is written outside --out; and no
// process the run started (workers, Python runners — found by an
// environment tag they inherit) is left alive.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real runs")
	}
	bin := builtBinary(t)
	seed := uint64(1)
	if s := os.Getenv("ORTBENCH_CHAOS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	trials := 9
	if s := os.Getenv("ORTBENCH_CHAOS_TRIALS"); s != "" {
		trials, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	cfg := chaosConfig
	if _, err := os.Stat("../../baselines/python/.venv/bin/python"); err == nil {
		cfg += "  - strategy: py-threads\n    workers: 2\n"
	}
	// A whole run to compare the interrupted ones with.
	full := filepath.Join(t.TempDir(), "full")
	fullCfg := filepath.Join(filepath.Dir(full), "chaos.yaml")
	if err := os.WriteFile(fullCfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "run", "-q", "-c", fullCfg, "--out", full, "--shard", "1/1").CombinedOutput(); err != nil {
		t.Fatalf("the whole run: %v\n%s", err, out)
	}
	// The last kind interrupts twice: the second signal quits at once.
	signals := []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM, syscall.SIGINT}
	counts := map[string]int{}
	for trial := range trials {
		sig := signals[trial%len(signals)]
		twice := trial%len(signals) == len(signals)-1
		// From 50 ms on: a signal before main has installed its handler
		// ends the process by the signal's default action, by design.
		delay := 50*time.Millisecond + time.Duration(rng.Int64N(int64(2450*time.Millisecond)))
		name := fmt.Sprintf("%d-%s-%v", trial, sig, delay.Round(time.Millisecond))
		if twice {
			name += "-twice"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "out")
			cfgPath := filepath.Join(root, "chaos.yaml")
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			tag := fmt.Sprintf("chaos-%d-%d-%d", seed, trial, os.Getpid())
			cmd := exec.Command(bin, "run", "-q", "-c", cfgPath, "--out", out, "--shard", "1/1")
			cmd.Env = append(os.Environ(), "ORTBENCH_CHAOS_TAG="+tag)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
				counts["finished before the signal"]++
			case <-time.After(delay):
				_ = cmd.Process.Signal(sig)
				if twice {
					time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
					_ = cmd.Process.Signal(sig)
				}
				select {
				case err = <-done:
				case <-time.After(30 * time.Second):
					_ = cmd.Process.Kill()
					t.Fatalf("still running 30 s after %s:\n%s", sig, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("panicked:\n%s", stderr.String())
			}
			// Handled: exit 0 or 130. Killed by the signal itself: only
			// in the instants before main installs its handler or after
			// it removes it (the run's files then complete, or none).
			code := cmd.ProcessState.ExitCode()
			byDefault := code == -1 && sig != syscall.SIGKILL
			if sig != syscall.SIGKILL && code != 0 && code != exitInterrupted && !byDefault {
				t.Errorf("after %s: exit %d (%v), want 0 or %d:\n%s", sig, code, err, exitInterrupted, stderr.String())
			}
			checkLeftovers(t, tag)
			checkOutside(t, root)
			if sig != syscall.SIGKILL {
				checkNoTempFiles(t, out)
			}
			for _, dir := range runFolders(t, out) {
				st, err := results.CheckFolder(dir)
				if err != nil {
					t.Errorf("%s: %v", dir, err)
					continue
				}
				switch {
				case st.Incomplete && byDefault:
					t.Errorf("%s: ended by %s's default action in the middle of the run: %s", dir, sig, st.Reason)
				case st.Incomplete:
					counts["marked incomplete"]++
					checkRefused(t, bin, full, dir, root)
				case len(st.Stale) > 0:
					t.Errorf("%s: complete, but %v do not match manifest.json", dir, st.Stale)
				default:
					if _, err := results.ReadJSON(filepath.Join(dir, "results.json")); err != nil {
						t.Errorf("%s: complete but unreadable: %v", dir, err)
					}
					if _, err := os.Stat(filepath.Join(dir, results.ManifestFile)); err != nil {
						t.Errorf("%s: complete without a manifest: %v", dir, err)
					}
					counts["complete and consistent"]++
				}
			}
		})
	}
	t.Logf("chaos (seed %d, %d trials): %v", seed, trials, counts)
}

// checkRefused checks that the readers refuse an incomplete run folder:
// compare (even as the gate) and merge never exit 0 on it, and a merge
// allowed to take it writes a merged run that compare refuses in turn.
func checkRefused(t *testing.T, bin, full, dir, root string) {
	t.Helper()
	ortbench := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := ortbench("compare", filepath.Join(full, "chaos"), dir, "--fail-on-regression", "5"); code == 0 {
		t.Errorf("compare passed an incomplete run (%s):\n%s", dir, out)
	}
	if code, out := ortbench("report", dir, "-o", "-"); code == 0 || len(out) > 1000 {
		t.Errorf("report read an incomplete run (%s) without --allow-incomplete", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		return // killed before its first write: nothing any reader takes
	}
	merged := filepath.Join(root, "merged")
	defer os.RemoveAll(merged)
	if code, out := ortbench("merge", dir, "--out", merged); code == 0 {
		t.Errorf("merge took an incomplete shard (%s):\n%s", dir, out)
	}
	if code, out := ortbench("merge", dir, "--out", merged, "--allow-incomplete"); code != 0 && code != exitVerification {
		t.Errorf("merge --allow-incomplete: exit %d:\n%s", code, out)
		return
	}
	if code, out := ortbench("compare", filepath.Join(full, "chaos"), merged, "--fail-on-regression", "5"); code == 0 {
		t.Errorf("compare passed a run merged from an incomplete shard:\n%s", out)
	}
}

// checkNoTempFiles fails if an atomic write's temporary file (".x.tmp…")
// is left under out: a handled signal, even the second (which quits at
// once), removes it (tempfiles).
func checkNoTempFiles(t *testing.T, out string) {
	t.Helper()
	_ = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
}

// runFolders lists out/<experiment>/<run>/.
func runFolders(t *testing.T, out string) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(out, "*", "*"))
	return dirs
}

// checkOutside fails if the run wrote anything in root besides the config
// and its --out folder.
func checkOutside(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "out" && e.Name() != "chaos.yaml" {
			t.Errorf("written outside --out: %s", filepath.Join(root, e.Name()))
		}
	}
}

// checkLeftovers waits up to 5 s for every process carrying tag in its
// environment to be gone, then fails naming those that are not.
func checkLeftovers(t *testing.T, tag string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := tagged(tag)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Errorf("process %d left behind: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte(" ")))
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tagged lists the live processes whose environment holds
// ORTBENCH_CHAOS_TAG=tag (zombies excluded: they hold nothing).
func tagged(tag string) []int {
	want := []byte("ORTBENCH_CHAOS_TAG=" + tag + "\x00")
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// TestSecondInterruptLeavesNoTempFile: a second Ctrl-C quits at once, in
// the middle of an atomic write (datasets synth's Parquet file here), and
// still leaves no temporary file beside the output (tempfiles.RemoveAll).
func TestSecondInterruptLeavesNoTempFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ortbench and writes a large dataset")
	}
	bin := builtBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "datasets", "synth", "--rows", "20000000", "--features", "32", "--classes", "2", "--seed", "1",
		"--out", filepath.Join(dir, "big.parquet"))
	stderr := new(syncBuffer) // read while the process writes it
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	temps := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
		return m
	}
	for deadline := time.Now().Add(60 * time.Second); len(temps()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no temporary file appeared in 60 s:\n%s", stderr.String())
		}
	}
	// The second once the first is handled (two pending SIGINTs are one).
	_ = cmd.Process.Signal(syscall.SIGINT)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "interrupted") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after two SIGINTs:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d:\n%s", code, exitInterrupted, stderr.String())
	}
	if left := temps(); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// syncBuffer is a bytes.Buffer safe to read while exec's copier writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
