package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// cgroupFS is a CPU-quota cgroup made for the test: its directory and the
// file its quota goes in.
type cgroupFS struct {
	dir     string
	version int // 1: cpu.cfs_quota_us; 2: cpu.max
}

// needCgroup makes a cgroup limited to one core (v1's cpu controller where
// it is mounted, as on this project's VM, else v2's cpu.max), removed at
// the end. The test skips unless it must run: ORTBENCH_CGROUP=1 (.ci/run
// sets it) or CI=true make a missing root or cgroup a failure.
func needCgroup(t *testing.T) cgroupFS {
	t.Helper()
	must := os.Getenv("ORTBENCH_CGROUP") == "1" || os.Getenv("CI") == "true"
	unable := func(format string, args ...any) {
		t.Helper()
		if must {
			t.Fatalf("ORTBENCH_CGROUP=1 or CI=true but "+format, args...)
		}
		t.Skipf(format+" (ORTBENCH_CGROUP=1 makes this a failure)", args...)
	}
	if !must {
		t.Skip("the real-cgroup test runs under ORTBENCH_CGROUP=1 (as root; .ci/run sets it)")
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		unable("making a cgroup needs root on Linux (euid %d)", os.Geteuid())
	}
	if runtime.NumCPU() < 2 {
		unable("a 1-core quota needs a machine with ≥ 2 CPUs to mean anything, have %d", runtime.NumCPU())
	}
	name := fmt.Sprintf("ortbench-test-%d", os.Getpid())
	cg := cgroupFS{dir: filepath.Join("/sys/fs/cgroup/cpu", name), version: 1}
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err != nil {
		cg = cgroupFS{dir: filepath.Join("/sys/fs/cgroup", name), version: 2}
		if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err != nil || !strings.Contains(string(b), "cpu") {
			unable("neither cgroup v1's cpu controller nor v2 with cpu enabled is mounted at /sys/fs/cgroup")
		}
	}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		unable("mkdir %s: %v", cg.dir, err)
	}
	t.Cleanup(func() {
		if err := os.Remove(cg.dir); err != nil {
			t.Errorf("removing %s: %v", cg.dir, err)
		}
	})
	file, text := "cpu.cfs_quota_us", "100000"
	if cg.version == 2 {
		file, text = "cpu.max", "100000 100000"
	} else if err := os.WriteFile(filepath.Join(cg.dir, "cpu.cfs_period_us"), []byte("100000"), 0o644); err != nil {
		unable("%v", err)
	}
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(text), 0o644); err != nil {
		unable("%v", err)
	}
	return cg
}

// command runs args inside the cgroup: a shell writes its own pid into
// cgroup.procs, then execs them, so the process starts inside.
func (cg cgroupFS) command(args ...string) *exec.Cmd {
	sh := append([]string{"-c", `echo $$ > "$0"/cgroup.procs && exec "$@"`, cg.dir}, args...)
	return exec.Command("sh", sh...)
}

// TestCgroupOneCore runs the built binary inside a real one-core quota and
// under taskset -c 0: sysinfo says 1 usable core of the host's, threads: 0
// resolves to 1, a 2-thread cell is flagged, and a real run's efficiency
// divides by 1.
func TestCgroupOneCore(t *testing.T) {
	cg := needCgroup(t)
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Fatalf("taskset (util-linux) is needed: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ortbench")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/ortbench").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	host := runtime.NumCPU()
	for _, tc := range []struct {
		name  string
		cmd   *exec.Cmd
		quota float64
	}{
		{"quota", cg.command(bin, "sysinfo", "-o", "json"), 1},
		{"taskset", exec.Command("taskset", "-c", "0", bin, "sysinfo", "-o", "json"), 0},
		{"both", cg.command("taskset", "-c", "0", bin, "sysinfo", "-o", "json"), 1},
	} {
		var stderr strings.Builder
		tc.cmd.Stderr = &stderr
		out, err := tc.cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, stderr.String())
		}
		var env results.Environment
		if err := json.Unmarshal(out, &env); err != nil || env.Cores == nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		if env.Cores.Usable != 1 || env.LogicalCores != host || env.Cores.Quota != tc.quota {
			t.Errorf("%s: usable %d of %d, quota %g; want 1 of %d, quota %g", tc.name, env.Cores.Usable, env.LogicalCores, env.Cores.Quota, host, tc.quota)
		}
	}
	check, err := cg.command(bin, "sysinfo", "--check").Output()
	if err != nil || !strings.Contains(string(check), "quota: a cgroup CPU quota of 1 core is in force") {
		t.Errorf("sysinfo --check inside the quota: %v\n%s", err, check)
	}
	cgroupRun(t, cg, bin)
}

// cgroupRun: threads 0 and 2 on the real runtime and a real model inside
// the quota.
func cgroupRun(t *testing.T, cg cgroupFS, bin string) {
	root, _ := os.Getwd() // TestMain runs the tests from the repository root
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cgroup.yaml")
	yaml := fmt.Sprintf(`name: cgroup
workload:
  model: %s/training/models/logreg_breast_cancer.onnx
  dataset: {path: %s/datasets/data/breast_cancer.parquet, label: label}
batch_sizes: [64]
warmup_batches: 1
repetitions: 2
max_duration: 30s
min_duration: 20ms
output: {dir: %s, formats: [json]}
strategies:
  - strategy: sequential
  - strategy: intra-op
    threads: [0, 2]
`, root, root, dir)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	validate, err := cg.command(bin, "validate", "-c", cfg, "--no-load").CombinedOutput()
	if err != nil || !strings.Contains(string(validate), "intra-op/threads=1/") ||
		!strings.Contains(string(validate), "oversubscribed: 2 threads wanted under a CPU quota of 1 core") {
		t.Errorf("validate inside the quota: %v\n%s", err, validate)
	}
	if out, err := cg.command(bin, "run", "-c", cfg, "-q").CombinedOutput(); err != nil {
		t.Fatalf("run inside the quota: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cgroup", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("results.json: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	var run results.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if run.Environment.UsableCores() != 1 {
		t.Errorf("run's environment: %d usable cores, want 1", run.Environment.UsableCores())
	}
	for _, c := range run.Cells {
		if c.Strategy != "intra-op" {
			continue
		}
		if c.CoresUsed != 1 || c.Speedup <= 0 || c.Efficiency != c.Speedup {
			t.Errorf("%s: cores_used %d, speedup %g, efficiency %g: want efficiency = speedup ÷ 1", c.Name, c.CoresUsed, c.Speedup, c.Efficiency)
		}
		if c.Params.Int("threads") == 2 && !strings.Contains(strings.Join(c.Warnings, "\n"), "oversubscribed") {
			t.Errorf("%s is not flagged: %q", c.Name, c.Warnings)
		}
	}
}
