package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/shard"
)

// tinyShardConfig is a 6-cell experiment over two batch sizes that runs in
// about a second: split in 3, the third shard needs both sequential cells
// as support copies.
const tinyShardConfig = `
name: tiny-shard
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
batch_sizes: [32, 64]
repetitions: 2
min_duration: 0s
warmup_batches: 1
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: [2]
  - strategy: intra-op
    threads: [2]
`

func writeTinyShardConfig(t *testing.T) string {
	t.Helper()
	root, _ := os.Getwd()
	p := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(tinyShardConfig, "REPO", root)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runShard runs `run --shard spec` of cfg into a new folder and returns the
// folder and its results.
func runShard(t *testing.T, cfg, spec string, extra ...string) (string, *results.Run) {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"run", "-q", "-c", cfg, "--out", dir}, extra...)
	if spec != "" {
		args = append(args, "--shard", spec)
	}
	code, out, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("run --shard %s: exit %d\n%s%s", spec, code, out, errs)
	}
	path, err := shard.FindResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	run, err := results.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	return dir, run
}

// oneLineErr checks a failing command printed one line, containing every want.
func oneLineErr(t *testing.T, code, wantCode int, stderr string, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit %d, want %d: %s", code, wantCode, stderr)
	}
	if n := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); n != 0 {
		t.Errorf("error is %d lines, want one:\n%s", n+1, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("error lacks %q:\n%s", w, stderr)
		}
	}
}

func TestShardRunAndMerge(t *testing.T) {
	cfg := writeTinyShardConfig(t)
	const n = 3
	dirs := make([]string, n)
	runs := make([]*results.Run, n)
	for i := range dirs {
		dirs[i], runs[i] = runShard(t, cfg, shard.Label(i+1, n))
	}

	// Each shard is marked, lists the whole plan, and shares one config hash.
	plan := runs[0].Shard.Cells
	if len(plan) != 6 {
		t.Fatalf("shard 1 lists %d plan cells, want 6: %v", len(plan), plan)
	}
	owned := map[string]int{}
	support := 0
	for i, r := range runs {
		if r.Shard == nil || r.Shard.Index != i+1 || r.Shard.Count != n {
			t.Fatalf("shard %d: results.json shard = %+v", i+1, r.Shard)
		}
		if r.Shard.ConfigSHA256 != runs[0].Shard.ConfigSHA256 || r.Shard.ConfigSHA256 == "" {
			t.Errorf("shard %d: config hash %q, shard 1's %q", i+1, r.Shard.ConfigSHA256, runs[0].Shard.ConfigSHA256)
		}
		if r.Experiment.ConfigSHA256 != runs[0].Experiment.ConfigSHA256 {
			t.Errorf("shard %d: the resolved config's hash differs from shard 1's although only output.dir does", i+1)
		}
		for _, c := range r.Cells {
			if c.SupportCopy {
				support++
				if c.Strategy != "sequential" {
					t.Errorf("shard %d: support copy %s is not a baseline", i+1, c.Name)
				}
				continue
			}
			owned[c.Key()]++
			if c.Speedup == 0 {
				t.Errorf("shard %d: %s has no speedup (its baseline did not run beside it)", i+1, c.Name)
			}
		}
	}
	for _, k := range plan {
		if owned[k] != 1 {
			t.Errorf("cell %s owned by %d shards, want 1", k, owned[k])
		}
	}
	if support == 0 {
		t.Errorf("no shard ran a support copy; the split should need one (shards: %v)", cellNames(runs))
	}

	t.Run("merge", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "merged")
		code, stdout, errs := cli(t, append([]string{"merge", "--out", out}, dirs...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, errs)
		}
		if !strings.Contains(stdout, "merged 3 shard folders (6 cells)") || strings.Contains(stdout, "machines:") {
			t.Errorf("stdout:\n%s", stdout)
		}
		m, err := results.ReadJSON(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Cells) != len(plan) {
			t.Fatalf("merged %d cells, want %d", len(m.Cells), len(plan))
		}
		for k, c := range m.Cells {
			if c.Key() != plan[k] {
				t.Errorf("merged cell %d is %s, want %s (plan order)", k, c.Key(), plan[k])
			}
			if c.SupportCopy || !c.Verification.Passed || !results.Measured(c.Status) {
				t.Errorf("merged %s: support_copy %v, verified %v, status %s", c.Name, c.SupportCopy, c.Verification.Passed, c.Status)
			}
		}
		if m.Shard != nil || len(m.Machines) != 0 || m.StatusCounts[results.StatusFailed] != 0 || len(m.ParamKeys) == 0 {
			t.Errorf("merged run: shard %v, %d machines, counts %v, %d param keys", m.Shard, len(m.Machines), m.StatusCounts, len(m.ParamKeys))
		}
		for _, f := range []string{"results.csv", "results.parquet", "bench.txt", "report.html", "config.resolved.yaml"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("merged folder lacks %s", f)
			}
		}
	})

	t.Run("same shard twice", func(t *testing.T) {
		code, _, errs := cli(t, "merge", "--out", t.TempDir(), dirs[0], dirs[1], dirs[2], dirs[0])
		oneLineErr(t, code, exitError, errs, "is in both "+dirs[0]+" and "+dirs[0])
	})
	t.Run("missing shard", func(t *testing.T) {
		code, _, errs := cli(t, "merge", "--out", t.TempDir(), dirs[0], dirs[1])
		var missing []string
		for _, c := range runs[2].Cells {
			if !c.SupportCopy {
				missing = append(missing, c.Key())
			}
		}
		oneLineErr(t, code, exitError, errs, append([]string{"missing from every shard"}, missing...)...)
	})
	t.Run("different config", func(t *testing.T) {
		other, _ := runShard(t, cfg, "3/3", "--repetitions", "1")
		code, _, errs := cli(t, "merge", "--out", t.TempDir(), dirs[0], dirs[1], other)
		oneLineErr(t, code, exitError, errs, "ran different configs", dirs[0], other)
	})
	t.Run("different split", func(t *testing.T) {
		other, _ := runShard(t, cfg, "2/2")
		code, _, errs := cli(t, "merge", "--out", t.TempDir(), dirs[0], other)
		oneLineErr(t, code, exitError, errs, "is shard 1/3 but", "is shard 2/2")
	})

	t.Run("two machines", func(t *testing.T) {
		// Shards 2 and 3 as if measured on another machine.
		fake := []string{dirs[0], fabricate(t, dirs[1], "big-host", "Fake CPU 9000", 64), fabricate(t, dirs[2], "big-host", "Fake CPU 9000", 64)}
		out := t.TempDir()
		code, stdout, errs := cli(t, "merge", "--out", out, "--machine-label", "big-host=c9.16xlarge", "--price", "c9.16xlarge=2.5", fake[0], fake[1], fake[2])
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, errs)
		}
		for _, want := range []string{"machines:", "c9.16xlarge: Fake CPU 9000, 64 logical cores", "rows/s/core", "rows/cost", "sequential", "goroutines"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		m, err := results.ReadJSON(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Machines) != 2 || m.Machines[1].Label != "c9.16xlarge" || m.Machines[1].PricePerHour != 2.5 {
			t.Fatalf("machines: %+v", m.Machines)
		}
		for _, f := range m.Machines[1].Strategies {
			if f.RowsPerCost <= 0 || f.RowsPerSecondPerCore != f.RowsPerSecond/64 {
				t.Errorf("c9.16xlarge %s: %+v", f.Strategy, f)
			}
		}
		if len(m.Cells) != 6 {
			t.Errorf("%d cells, want 6", len(m.Cells))
		}
		html, _ := os.ReadFile(filepath.Join(out, "report.html"))
		if !strings.Contains(string(html), "Machines compared") || !strings.Contains(string(html), "rows per unit of cost") {
			t.Errorf("report.html does not compare the machines")
		}

		code, _, errs = cli(t, "merge", "--out", t.TempDir(), "--price", "nosuch=1", fake[0], fake[1], fake[2])
		oneLineErr(t, code, exitInvalid, errs, "--price names no machine of these shards: nosuch")
	})
}

// fabricate copies a shard's run folder with its environment changed to
// another machine's and returns the copy.
func fabricate(t *testing.T, dir, host, cpu string, cores int) string {
	t.Helper()
	path, err := shard.FindResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	run, err := results.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	run.Environment.Hostname, run.Environment.CPUModel, run.Environment.LogicalCores = host, cpu, cores
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "results.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.resolved.yaml", "results.csv", "report.html"} {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), f)); err == nil {
			_ = os.WriteFile(filepath.Join(out, f), b, 0o644)
		}
	}
	return out
}

func cellNames(runs []*results.Run) [][]string {
	var out [][]string
	for _, r := range runs {
		var names []string
		for _, c := range r.Cells {
			names = append(names, c.Name)
		}
		out = append(out, names)
	}
	return out
}

func TestShardFromEnvironment(t *testing.T) {
	cfg := writeTinyShardConfig(t)
	t.Run("slurm", func(t *testing.T) {
		t.Setenv("SLURM_ARRAY_TASK_ID", "1")
		t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
		t.Setenv("SLURM_ARRAY_TASK_MIN", "0")
		_, r := runShard(t, cfg, "auto")
		if r.Shard == nil || r.Shard.Index != 2 || r.Shard.Count != 2 {
			t.Fatalf("shard %+v, want 2/2 (task 1 of an array 0-1)", r.Shard)
		}
	})
	t.Run("ORTBENCH_SHARD", func(t *testing.T) {
		t.Setenv(envShard, "1/2")
		_, r := runShard(t, cfg, "")
		if r.Shard == nil || r.Shard.Index != 1 || r.Shard.Count != 2 {
			t.Fatalf("shard %+v, want 1/2", r.Shard)
		}
	})
	t.Run("more shards than cells", func(t *testing.T) {
		dir, r := runShard(t, cfg, "8/8")
		if len(r.Cells) != 0 || r.Shard == nil || len(r.Shard.Cells) != 6 {
			t.Fatalf("shard 8/8 of 6 cells: %d cells, shard %+v", len(r.Cells), r.Shard)
		}
		_ = dir
	})
}

func TestShardFlagErrors(t *testing.T) {
	cfg := writeTinyShardConfig(t)
	for _, tc := range []struct {
		name, spec string
		env        map[string]string
		want       string
	}{
		{"index too large", "4/3", nil, "--shard 4/3: index must be 1..3"},
		{"zero", "0/3", nil, "numbered from 1"},
		{"not a fraction", "two", nil, "want i/n"},
		{"auto without a scheduler", "auto", nil, "no shard in the environment"},
		{"auto with half an array", "auto", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX", envShard} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, errs := cli(t, "run", "-q", "-c", cfg, "--out", t.TempDir(), "--shard", tc.spec)
			oneLineErr(t, code, exitInvalid, errs, tc.want)
		})
	}
}

func TestFleetCommands(t *testing.T) {
	cfg := writeTinyShardConfig(t)
	t.Run("slurm", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "s.sh")
		code, out, errs := cli(t, "fleet", "slurm", "-c", cfg, "--shards", "2", "--partition", "cpu", "--time", "00:10:00",
			"--results", "/shared/r", "--binary", "/opt/ortbench", "--run-arg=--repetitions=3", "-o", script)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		b, _ := os.ReadFile(script)
		s := string(b)
		for _, want := range []string{"--array=1-2", "--exclusive", "--partition=cpu", "--time=00:10:00", "afterok", "/opt/ortbench run -c " + cfg + " --repetitions=3",
			"/opt/ortbench merge", "results=/shared/r"} {
			if !strings.Contains(s, want) {
				t.Errorf("script lacks %q", want)
			}
		}
		if st, _ := os.Stat(script); st.Mode()&0o100 == 0 {
			t.Errorf("script is not executable: %v", st.Mode())
		}
	})
	t.Run("k8s", func(t *testing.T) {
		code, out, errs := cli(t, "fleet", "k8s", "-c", cfg, "--shards", "3", "--image", "ghcr.io/x/ortbench:1", "--claim", "res", "--namespace", "bench")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		for _, want := range []string{"completionMode: Indexed", "completions: 3", "ghcr.io/x/ortbench:1", `claimName: "res"`, "namespace: bench", "name: tiny-shard"} {
			if !strings.Contains(out, want) {
				t.Errorf("manifest lacks %q", want)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		code, _, errs := cli(t, "fleet", "k8s", "-c", cfg, "--shards", "3")
		oneLineErr(t, code, exitInvalid, errs, "no image given")
		code, _, errs = cli(t, "fleet", "slurm", "-c", cfg)
		oneLineErr(t, code, exitInvalid, errs, "needs --shards N")
		code, _, errs = cli(t, "fleet", "slurm", "-c", cfg, "--shards", "0")
		oneLineErr(t, code, exitInvalid, errs, "--shards 0: want at least 1")
		code, _, errs = cli(t, "merge", t.TempDir())
		oneLineErr(t, code, exitInvalid, errs, "needs --out")
	})
}

// TestMergeComparesWholeRuns: the whole experiment run as --shard 1/1 on
// two machines merges into one run with the machine as a dimension: every
// cell twice, once per machine.
func TestMergeComparesWholeRuns(t *testing.T) {
	cfg := writeTinyShardConfig(t)
	a, _ := runShard(t, cfg, "1/1")
	b, _ := runShard(t, cfg, "1/1")
	out := t.TempDir()
	code, stdout, errs := cli(t, "merge", "--out", out, a, fabricate(t, b, "other-host", "Other CPU", 8))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	m, err := results.ReadJSON(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cells) != 12 || len(m.Machines) != 2 || m.Machines[1].Label != "other-host" || m.Machines[1].Cells != 6 {
		t.Fatalf("%d cells, machines %+v", len(m.Cells), m.Machines)
	}
	if m.Cells[6].Extra[shard.MachineKey] != "other-host" {
		t.Errorf("cell 7's machine: %v", m.Cells[6].Extra)
	}

	// Two plain runs on one machine: every cell twice; the error says what to do.
	p1, _ := runShard(t, cfg, "")
	p2, _ := runShard(t, cfg, "")
	code, _, errs = cli(t, "merge", "--out", t.TempDir(), p1, p2)
	oneLineErr(t, code, exitError, errs, "is in both", "was not run as a shard", "--shard 1/1")
}
