package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	t.Cleanup(func() {
		for _, line := range strings.Split(stdout, "\n") {
			for _, p := range []string{"ORTBENCH_SHARDS_JOB=", "ORTBENCH_MERGE_JOB="} {
				if id, ok := strings.CutPrefix(strings.TrimSpace(line), p); ok {
					_ = exec.Command("scancel", id).Run()
				}
			}
		}
	})
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
