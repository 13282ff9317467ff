package fleet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needSlurm skips the test when no Slurm cluster answers here, or fails it
// when ORTBENCH_SLURM=1 says one must (CI starts one with
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
			reason = "the Slurm cluster does not answer (sinfo: " + oneLine(string(out)) + "; start one with: bash scripts/slurm-up.sh)"
		case !strings.Contains(string(out), "up "):
			reason = "no partition is up (sinfo: " + oneLine(string(out)) + ")"
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

// submitAndWait writes the script for opts into dir, submits it and waits
// (at most 2 minutes) for both jobs.
func submitAndWait(t *testing.T, dir string, opts SlurmOptions) (*Submitted, []JobState, []JobState) {
	t.Helper()
	script, err := Slurm(opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "submit.sh")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub, err := SubmitSlurm(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("submitted: %s", strings.TrimSpace(sub.Output))
	t.Cleanup(func() {
		// Leave nothing queued if the test failed half-way.
		_ = exec.Command("scancel", sub.ShardsJob, sub.MergeJob).Run()
	})
	states, err := WaitSlurm(ctx, 500*time.Millisecond, sub.ShardsJob, sub.MergeJob)
	if err != nil {
		dumpLogs(t, opts.Results)
		t.Fatal(err)
	}
	var shards, merge []JobState
	for _, s := range states {
		if strings.HasPrefix(s.ID, sub.ShardsJob+"_") || s.ID == sub.ShardsJob {
			shards = append(shards, s)
		} else {
			merge = append(merge, s)
		}
	}
	t.Logf("final states: %s", describeStates(states))
	return sub, shards, merge
}

func dumpLogs(t *testing.T, results string) {
	logs, _ := filepath.Glob(filepath.Join(results, "logs", "*"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		t.Logf("---- %s\n%s", l, b)
	}
}

// TestSlurmArrayAndMerge submits the generated script to a real cluster: a
// 2-task job array whose tasks write their shard, then the merge job, which
// runs only after both succeeded and reads both outputs.
func TestSlurmArrayAndMerge(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	opts := SlurmOptions{
		Shards:  2,
		Results: results,
		JobName: "ortbench-test",
		Time:    "00:05:00",
		// Each task records its shard and whether Slurm gave it the node
		// exclusively (OverSubscribe=NO).
		Command: `sleep 1
{ echo "shard $ORTBENCH_SHARD index $ORTBENCH_SHARD_INDEX of $ORTBENCH_SHARDS"
  scontrol -o show job "$SLURM_JOB_ID" | grep -o 'OverSubscribe=[A-Z]*'
} > "$ORTBENCH_SHARD_DIR/out"`,
		MergeCommand: `cat "$ORTBENCH_RESULTS"/shards/1/out "$ORTBENCH_RESULTS"/shards/2/out > "$ORTBENCH_RESULTS/merged.txt"`,
	}
	start := time.Now()
	sub, shards, merge := submitAndWait(t, dir, opts)
	if ok, bad := AllCompleted(shards); !ok || len(shards) != 2 {
		dumpLogs(t, results)
		t.Fatalf("array job %s: want 2 completed tasks, got %d: %s", sub.ShardsJob, len(shards), bad)
	}
	if ok, bad := AllCompleted(merge); !ok || len(merge) != 1 {
		dumpLogs(t, results)
		t.Fatalf("merge job %s: %s", sub.MergeJob, bad)
	}
	for i, want := range []string{"shard 1/2 index 1 of 2", "shard 2/2 index 2 of 2"} {
		b, err := os.ReadFile(filepath.Join(results, "shards", []string{"1", "2"}[i], "out"))
		if err != nil {
			dumpLogs(t, results)
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) || !strings.Contains(string(b), "OverSubscribe=NO") {
			t.Errorf("shard %d wrote %q, want %q and OverSubscribe=NO (exclusive node)", i+1, b, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(results, "merged.txt"))
	if err != nil {
		dumpLogs(t, results)
		t.Fatalf("the merge job's output: %v", err)
	}
	if !strings.Contains(string(b), "shard 1/2") || !strings.Contains(string(b), "shard 2/2") {
		t.Errorf("merged output %q lacks a shard", b)
	}
	for _, log := range []string{"shard-1.out", "shard-2.out", "merge.out"} {
		if _, err := os.Stat(filepath.Join(results, "logs", log)); err != nil {
			t.Errorf("log %s: %v", log, err)
		}
	}
	t.Logf("2-shard array + merge through Slurm: %.1fs", time.Since(start).Seconds())
}

// TestSlurmMergeWaitsForSuccess: when a shard fails, the merge job never
// runs (afterok), and Slurm cancels it.
func TestSlurmMergeWaitsForSuccess(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	opts := SlurmOptions{
		Shards:       2,
		Results:      results,
		JobName:      "ortbench-test-fail",
		Command:      `if [ "$ORTBENCH_SHARD_INDEX" = 2 ]; then echo "shard 2 fails on purpose" >&2; exit 3; fi; touch "$ORTBENCH_SHARD_DIR/ok"`,
		MergeCommand: `touch "$ORTBENCH_RESULTS/merged"`,
	}
	_, shards, merge := submitAndWait(t, dir, opts)
	if ok, _ := AllCompleted(shards); ok {
		t.Fatalf("shard 2 should have failed: %s", describeStates(shards))
	}
	if len(merge) != 1 || merge[0].State == "COMPLETED" {
		t.Fatalf("the merge job should not have run: %s", describeStates(merge))
	}
	if _, err := os.Stat(filepath.Join(results, "merged")); err == nil {
		t.Error("the merge command ran although a shard failed")
	}
}
