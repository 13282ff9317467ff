package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// needSlurm skips the test when no Slurm cluster answers here, or fails it
// when ORTBENCH_SLURM=1 says one must (.ci/run starts one with
// scripts/slurm-up.sh), so CI cannot pass without running it.
func needSlurm(t *testing.T) {
	t.Helper()
	reason := ""
	if _, err := exec.LookPath("sbatch"); err != nil {
		reason = "sbatch not on PATH (start a single-node cluster with: bash scripts/slurm-up.sh)"
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sinfo", "-h", "-o", "%a %T").CombinedOutput()
		switch {
		case err != nil:
			reason = "the Slurm cluster does not answer (sinfo: " + strings.TrimSpace(string(out)) + "; start one with: bash scripts/slurm-up.sh)"
		case !strings.Contains(string(out), "up "):
			reason = "no partition is up (sinfo: " + strings.TrimSpace(string(out)) + ")"
		}
	}
	if reason == "" {
		return
	}
	if os.Getenv("ORTBENCH_SLURM") == "1" {
		t.Fatalf("ORTBENCH_SLURM=1 but %s", reason)
	}
	t.Skip(reason)
}

// TestSlurmEndToEnd runs a small experiment for real as a 2-shard Slurm job
// array through `ortbench fleet slurm --submit --wait`, with a freshly built
// ortbench binary on the nodes: both shards run (one after the other on a
// one-node cluster, each holding the node exclusively), the merge job
// combines them, and every cell of the plan is there once, verified.
func TestSlurmEndToEnd(t *testing.T) {
	needSlurm(t)
	if testing.Short() {
		t.Skip("-short: builds ortbench and submits Slurm jobs")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ortbench")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/ortbench").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := writeTinyShardConfig(t)
	res := filepath.Join(dir, "results")
	args := []string{"fleet", "slurm", "-c", cfg, "--shards", "2", "--results", res, "--binary", bin,
		"--job-name", "ortbench-test", "--submit", "--wait", "--wait-timeout", "5m"}
	if lib := os.Getenv("ORTBENCH_ORT_LIB"); lib != "" {
		args = append(args, "--run-arg=--ort-lib="+lib)
	}
	code, stdout, stderr := cli(t, args...)
	t.Cleanup(func() { cancelJobs(stdout) })
	if code != 0 {
		for _, log := range []string{"shard-1.out", "shard-2.out", "merge.out"} {
			b, _ := os.ReadFile(filepath.Join(res, "logs", log))
			t.Logf("%s:\n%s", log, b)
		}
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(res, "submit.sh")); err != nil {
		t.Errorf("the submitted script is not kept: %v", err)
	}

	merged, err := results.ReadJSON(filepath.Join(res, "merged", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for i := 1; i <= 2; i++ {
		matches, _ := filepath.Glob(filepath.Join(res, "shards", string(rune('0'+i)), "*", "*", "results.json"))
		if len(matches) != 1 {
			t.Fatalf("shard %d wrote %d results.json", i, len(matches))
		}
		r, err := results.ReadJSON(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 2 {
			t.Fatalf("shard %d: %+v", i, r.Shard)
		}
		plan = r.Shard.Cells
	}
	seen := map[string]int{}
	for _, c := range merged.Cells {
		seen[c.Key()]++
		if c.SupportCopy || !c.Verification.Passed || !results.Measured(c.Status) {
			t.Errorf("merged %s: support_copy %v, verified %v, status %s", c.Name, c.SupportCopy, c.Verification.Passed, c.Status)
		}
	}
	if len(merged.Cells) != len(plan) {
		t.Errorf("merged %d cells, the plan has %d", len(merged.Cells), len(plan))
	}
	for _, k := range plan {
		if seen[k] != 1 {
			t.Errorf("cell %s is in the merged run %d times, want once", k, seen[k])
		}
	}
}

// TestSlurmTaskCores runs ortbench as a real Slurm task given one CPU
// (srun --cpus-per-task=1 --cpu-bind=cores, bound by slurm-up.sh's
// task/affinity and, on cgroup v1, task/cgroup's cpuset): sysinfo counts 1
// usable core of the node's, and a sharded run submitted with
// `fleet slurm --cpus-per-task 1` resolves threads: 0 and workers: 0 (goroutines,
// processes) to 1 in its task.
func TestSlurmTaskCores(t *testing.T) {
	needSlurm(t)
	if testing.Short() {
		t.Skip("-short: builds ortbench and submits Slurm jobs")
	}
	host := runtime.NumCPU()
	if host < 2 {
		if os.Getenv("ORTBENCH_SLURM") == "1" {
			t.Fatalf("a 1-CPU task needs a node with ≥ 2 CPUs to mean anything, have %d", host)
		}
		t.Skipf("a 1-CPU task needs a node with ≥ 2 CPUs to mean anything, have %d", host)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ortbench")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/ortbench").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "srun", "--ntasks=1", "--cpus-per-task=1", "--cpu-bind=cores", bin, "sysinfo", "-o", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("srun sysinfo: %v\n%s", err, stderr.String())
	}
	var env results.Environment
	if err := json.Unmarshal(out, &env); err != nil || env.Cores == nil {
		t.Fatalf("sysinfo -o json: %v\n%s", err, out)
	}
	if env.Cores.Usable != 1 || env.LogicalCores != host {
		t.Errorf("in a 1-CPU task: usable %d of %d (CPUs %s, affinity %q, cpuset %q); want 1 of %d",
			env.Cores.Usable, env.LogicalCores, env.Cores.CPUs, env.Cores.Affinity, env.Cores.Cpuset, host)
	}
	slurmShardCores(t, bin)
}

// slurmShardCores submits a 2-shard run with one CPU per task and reads
// each shard's cells: every automatic count is 1, and the environment the
// shard recorded says 1 usable core.
func slurmShardCores(t *testing.T, bin string) {
	root, _ := os.Getwd() // TestMain runs the tests from the repository root
	cfg := filepath.Join(t.TempDir(), "auto.yaml")
	yaml := strings.ReplaceAll(`name: slurm-auto
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
batch_sizes: [64]
repetitions: 2
min_duration: 0s
warmup_batches: 1
strategies:
  - strategy: sequential
  - strategy: intra-op
    threads: [0]
  - strategy: goroutines
    workers: [0]
  - strategy: processes
    workers: [0]
`, "REPO", root)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(t.TempDir(), "results")
	args := []string{"fleet", "slurm", "-c", cfg, "--shards", "2", "--cpus-per-task", "1", "--results", res, "--binary", bin,
		"--job-name", "ortbench-test-cores", "--submit", "--wait", "--wait-timeout", "5m"}
	if lib := os.Getenv("ORTBENCH_ORT_LIB"); lib != "" {
		args = append(args, "--run-arg=--ort-lib="+lib)
	}
	code, stdout, stderr := cli(t, args...)
	t.Cleanup(func() { cancelJobs(stdout) })
	if code != 0 {
		for _, log := range []string{"shard-1.out", "shard-2.out", "merge.out"} {
			b, _ := os.ReadFile(filepath.Join(res, "logs", log))
			t.Logf("%s:\n%s", log, b)
		}
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	autos := 0
	for i := 1; i <= 2; i++ {
		matches, _ := filepath.Glob(filepath.Join(res, "shards", strconv.Itoa(i), "*", "*", "results.json"))
		if len(matches) != 1 {
			t.Fatalf("shard %d wrote %d results.json", i, len(matches))
		}
		r, err := results.ReadJSON(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		if r.Environment.UsableCores() != 1 {
			t.Errorf("shard %d recorded %d usable cores, want 1", i, r.Environment.UsableCores())
		}
		for _, c := range r.Cells {
			for _, key := range []string{"threads", "workers"} {
				if v, _ := c.Derived.Get(key + "_auto"); v == true {
					autos++
					if got := c.Params.Int(key); got != 1 {
						t.Errorf("shard %d, %s: %s: 0 resolved to %d, want 1", i, c.Name, key, got)
					}
				}
			}
		}
	}
	if autos < 3 {
		t.Errorf("%d automatic counts in the shards' cells, want the intra-op cell's threads and the goroutines and processes cells' workers", autos)
	}
}

// cancelJobs scancels the jobs `fleet slurm --submit` printed.
func cancelJobs(stdout string) {
	for _, line := range strings.Split(stdout, "\n") {
		for _, p := range []string{"ORTBENCH_SHARDS_JOB=", "ORTBENCH_MERGE_JOB="} {
			if id, ok := strings.CutPrefix(strings.TrimSpace(line), p); ok {
				_ = exec.Command("scancel", id).Run()
			}
		}
	}
}
