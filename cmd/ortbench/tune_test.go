package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/tune"
)

// TestTuneBadInput: a missing config, a zero budget, impossible
// constraints and an empty space are one-line errors (exit 2), found
// before anything is measured.
func TestTuneBadInput(t *testing.T) {
	base := strings.Replace(good, "strategies:\n  - strategy: sequential\n", "", 1)
	for _, tc := range []struct {
		name, body string
		args       []string
		want       string
	}{
		{"no config", "", nil, "tune needs -c FILE"},
		{"budget flag", base, []string{"--budget", "0s"}, "--budget must be > 0"},
		{"budget key", base + "tune: {budget: 0s}\n", nil, "tune: budget must be > 0"},
		{"max_cores", base + "tune: {max_cores: 0.5}\n", nil, "max_cores 0.5 is impossible: every point keeps at least 1 core busy"},
		{"max_p99", base + "tune: {max_p99: fast}\n", nil, "tune.max_p99: time: invalid duration"},
		{"unknown key", base + "tune: {max_p99: 1ms, budgets: 1m}\n", nil, "unknown key budgets"},
		{"empty space", base + "tune: {strategies: []}\n", nil, "the space is empty: tune.strategies has no values"},
		{"too few cores", base + "tune: {strategies: [hybrid], workers: [64], threads: [64]}\n", nil, "the space is empty: every point needs more than"},
		{"unknown strategy", base + "tune: {strategies: [warp-drive]}\n", nil, `unknown strategy "warp-drive"`},
		{"streaming", strings.Replace(base, "label: label}", "label: label, streaming: true}", 1), nil, "workload.dataset.streaming: tune measures strategies that read the whole table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"tune", "-q"}
			if tc.body != "" {
				args = append(args, "-c", writeConfig(t, tc.body))
			}
			code, _, errs := cli(t, append(args, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != exitInvalid || len(lines) != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line containing %q", code, errs, exitInvalid, tc.want)
			}
		})
	}
}

// TestTuneEndToEnd: a tiny tune through the real runner and runtime —
// seeds, confirmation, outputs — whose winner config re-runs with `run -c`,
// and whose --resume replays every finished step without measuring again.
func TestTuneEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real runtime")
	}
	out := t.TempDir()
	body := strings.Replace(good, "strategies:\n  - strategy: sequential\n", "", 1) + `repetitions: 2
warmup_batches: 1
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
  rows: 128
tune: {batch_sizes: [1, 64], points: 3, confirm: 2}
`
	body = strings.Replace(body, "workload:\n  model: REPO/training/models/logreg_breast_cancer.onnx\n  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}\nbatch_sizes", "batch_sizes", 1)
	cfg := writeConfig(t, body)
	code, stdout, errs := cli(t, "tune", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	for _, want := range []string{"searched 4 of", "best throughput", "best p99", "best per_core", "winner-throughput.yaml", "tune-report.html", "winner-session-options.go.txt"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*-tune", "*"))
	if len(dirs) != 1 {
		t.Fatalf("tune folders: %v", dirs)
	}
	dir := dirs[0]
	checkTuneRegenerates(t, dir, 4)
	before, _ := filepath.Glob(filepath.Join(dir, "steps", "*"))
	code, stdout, errs = cli(t, "run", "-q", "-c", filepath.Join(dir, "winner-throughput.yaml"), "--out", t.TempDir())
	if code != 0 || !strings.Contains(stdout, "1 ok") && !strings.Contains(stdout, "1 unstable") {
		t.Fatalf("winner config: exit %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = cli(t, "tune", "-q", "-c", cfg, "--resume", dir)
	after, _ := filepath.Glob(filepath.Join(dir, "steps", "*"))
	if code != 0 || len(after) != len(before) || !strings.Contains(stdout, "searched 4 of") {
		t.Fatalf("resume of a finished tune: exit %d, steps %d → %d\n%s%s", code, len(before), len(after), stdout, errs)
	}
}

// TestTuneServerBadInput: a server tune without an SLO, with max_rss, a
// strategy that cannot serve, and the server's settings offline are
// one-line errors naming the file and key (exit 2), before anything runs.
func TestTuneServerBadInput(t *testing.T) {
	base := strings.Replace(good, "strategies:\n  - strategy: sequential\n", "", 1)
	server := base + "load: {scenario: server, qps: [100], slo: {percentile: 99, latency: 20ms}}\n"
	for _, tc := range []struct{ name, body, want string }{
		{"no slo", base + "load: {scenario: server, qps: [100]}\n", "bad.yaml:6: load.slo: a server tune needs an SLO"},
		{"stages", base + "load: {scenario: server, stages: [{qps: 100, duration: 1s}], slo: {percentile: 99, latency: 20ms}}\n", "bad.yaml:6: load.stages: a server tune ranks each point by its SLO search"},
		{"concurrency", base + "load: {scenario: server, concurrency: [4], slo: {percentile: 99, latency: 20ms}}\n", "bad.yaml:6: load.concurrency: a server tune ranks"},
		{"max_rss", server + "tune: {max_rss: 1GiB}\n", "tune.max_rss: server cells record no peak RSS"},
		{"batch_sizes", server + "tune: {batch_sizes: [1, 4]}\n", "tune.batch_sizes: server load sends load.request_rows rows per request"},
		{"not serving", server + "tune: {strategies: [pipeline]}\n", "tune.strategies: pipeline has no serving side"},
		{"offline objective", base + "tune: {objective: max_qps_under_slo}\n", "max_qps_under_slo needs server load"},
		{"offline batcher", base + "tune: {max_batch: [8]}\n", "the batcher's, which serves requests only"},
		{"offline batcher strategy", base + "tune: {strategies: [intra-op, batcher]}\n", "tune.strategies: batcher serves requests only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := cli(t, "tune", "-q", "-c", writeConfig(t, tc.body))
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != exitInvalid || len(lines) != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line containing %q", code, errs, exitInvalid, tc.want)
			}
		})
	}
}

// TestTuneServerEndToEnd: a tiny server tune through the real runner,
// serving engine and runtime — each point served at the fixed load, then
// its SLO search — recommends max_qps_under_slo, and the winner's config
// re-runs with `run -c` as a server run.
func TestTuneServerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real runtime")
	}
	out := t.TempDir()
	body := strings.Replace(good, "batch_sizes: [64]\nstrategies:\n  - strategy: sequential\n", "", 1) + `warmup_batches: 4
load:
  scenario: server
  qps: [2000]
  request_rows: 1
  duration: 100ms
  min_requests: 100
  slo: {percentile: 90, latency: 50ms, precision: 0.5}
tune: {strategies: [intra-op, batcher], workers: [1], threads: [1], spinning: [false], affinity: [false], max_batch: [4], max_delay: [1ms], confirm: 2}
`
	cfg := writeConfig(t, body)
	code, stdout, errs := cli(t, "tune", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	for _, want := range []string{"searched 2 of 2", "server load, SLO p90 ≤ 50ms", "best max_qps_under_slo", "req/s within p90 ≤ 50ms", "winner-max-qps-under-slo.yaml"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*-tune", "*"))
	if len(dirs) != 1 {
		t.Fatalf("tune folders: %v", dirs)
	}
	checkTuneRegenerates(t, dirs[0], 2)
	code, stdout, errs = cli(t, "run", "-q", "-c", filepath.Join(dirs[0], "winner-max-qps-under-slo.yaml"), "--out", t.TempDir())
	if code != 0 || !strings.Contains(stdout, "slo_search") {
		t.Fatalf("winner config: exit %d\n%s%s", code, stdout, errs)
	}
}

// checkTuneRegenerates: `report DIR` makes every file the tune in dir
// wrote again from its tune.json alone, byte for byte; --format csv -o -
// prints the points (one row each of the tune's points); a tune.json
// without its origin (an older ortbench's) is refused in one line.
func checkTuneRegenerates(t *testing.T, dir string, points int) {
	t.Helper()
	want := map[string][]byte{}
	winners, _ := filepath.Glob(filepath.Join(dir, "winner-*.yaml"))
	if len(winners) < 2 {
		t.Fatalf("winner configs: %v", winners)
	}
	for _, n := range append([]string{tune.ReportFile, tune.PointsCSV, tune.PointsParquet, tune.SnippetFile}, winners...) {
		n = filepath.Base(n)
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		want[n] = b
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, errs := cli(t, "report", dir); code != 0 {
		t.Fatalf("report %s: exit %d\n%s%s", dir, code, stdout, errs)
	}
	for n, b := range want {
		if got, err := os.ReadFile(filepath.Join(dir, n)); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s made again from tune.json differs from tune's (%d vs %d bytes, %v)", n, len(got), len(b), err)
		}
	}
	// The file itself, and the folder of the config's tunes (the newest).
	for _, arg := range []string{filepath.Join(dir, tune.StateFile), filepath.Dir(dir)} {
		code, stdout, errs := cli(t, "report", arg, "--format", "csv", "-o", "-")
		if code != 0 || stdout != string(want[tune.PointsCSV]) || strings.Count(stdout, "\n") != points+1 {
			t.Errorf("report %s --format csv -o -: exit %d, want the %d points\n%s%s", arg, code, points, stdout, errs)
		}
	}
	var doc map[string]any
	data, err := os.ReadFile(filepath.Join(dir, tune.StateFile))
	if err != nil || json.Unmarshal(data, &doc) != nil {
		t.Fatalf("tune.json: %v", err)
	}
	delete(doc, "origin")
	old := t.TempDir()
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(old, tune.StateFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := cli(t, "report", old)
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); code == 0 || len(lines) != 1 || !strings.Contains(errs, "no origin") {
		t.Errorf("tune.json without origin: exit %d, stderr:\n%s", code, errs)
	}
}
