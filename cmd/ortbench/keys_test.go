package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/internal/pqtest"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// keyValues are values, other than the defaults, for every strategy key a
// config can give. A new key without an entry here fails the test below, so
// whoever adds a key also proves it reaches every output.
var keyValues = map[string]string{
	"workers":          "3",
	"threads":          "2",
	"inter_op_threads": "2",
	"queue_depth":      "5",
	"spinning":         "true",
	"affinity":         "true",
	"placement":        "numa",
	"cores":            "0",
	"transport":        "copy",
	"start":            "per-run",
	"start_method":     "spawn",
	"data":             "shared_memory",
	"library":          "", // the ORT library this test loads: validate checks it is one (see below)
	"source":           "memory",
	"max_batch":        "3",
	"max_delay":        "250µs",
	"provider":         "openvino",
	"provider_options": "num_streams=2",
	"provider_library": "/bin/sh", // validate checks only that the file exists
}

// TestEveryKeyReachesEveryOutput gives each key of each registered strategy
// a non-default value in a config, expands it, and checks that the value is
// in the cell's name, description-independent identity and in every output:
// results.json params, the CSV and Parquet columns, the bench.txt name, the
// HTML report and compare's matching key.
func TestEveryKeyReachesEveryOutput(t *testing.T) {
	lib, err := onnx.FindLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if keyValues["library"], err = filepath.Abs(lib); err != nil {
		t.Fatal(err)
	}
	reg := strategies()
	for _, name := range reg.Names() {
		def := reg[name]
		for _, key := range def.ConfigKeys(false) {
			value, ok := keyValues[key]
			if !ok {
				t.Errorf("%s: key %s has no test value in keyValues: add one", name, key)
				continue
			}
			t.Run(name+"/"+key, func(t *testing.T) {
				checkKeyOutputs(t, reg, name, key, value)
			})
		}
	}
}

func checkKeyOutputs(t *testing.T, reg strategy.Registry, name, key, value string) {
	yaml := fmt.Sprintf("name: keys\nworkload: {model: m.onnx, dataset: {path: d.parquet}}\nbatch_sizes: [4]\nstrategies:\n  - strategy: %s\n    %s: %s\n", name, key, value)
	if key != "workers" && slices.Contains(reg[name].ConfigKeys(false), "workers") {
		yaml += "    workers: 2\n" // required by the strategies that take it
	}
	if strings.HasPrefix(key, "provider_") {
		yaml += "    provider: openvino\n" // the cpu provider takes neither
	}
	if reg.ServerOnly(name) { // the batcher serves requests only
		yaml = strings.Replace(yaml, "strategies:\n", "load: {scenario: server, qps: 10}\nstrategies:\n", 1)
	}
	cfg, err := config.Load("keys.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, reg, config.Machine{LogicalCores: 64, PhysicalCores: 32}, formats().Names()...)
	if err != nil {
		t.Fatal(err)
	}
	pc := plan.Cells[0]
	want := key + "=" + value
	if !strings.Contains(pc.Name, want) {
		t.Errorf("cell name %q lacks %s", pc.Name, want)
	}
	cell := results.Cell{Name: pc.Name, Strategy: pc.Strategy, Description: pc.Description, Params: pc.Params,
		Derived: strategy.Derived(pc.Config), Status: results.StatusOK,
		Workload: results.Workload{Kind: "onnx", Model: "m.onnx", Rows: 100}, RowsPerSecond: 1000,
		Repetitions:  []results.Repetition{{RowsPerSecond: 1000, Passes: 1, WallSeconds: 0.1}},
		Verification: results.Verification{RowsChecked: 100, Passed: true}}
	run := &results.Run{Schema: results.Schema, Experiment: results.Experiment{Name: "keys"}, ParamKeys: reg.ParamKeys(), Cells: []results.Cell{cell}}

	dir := t.TempDir()
	if _, err := formats().WriteAll(run, dir, nil); err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// results.json: params.<key>
	var doc struct {
		Cells []struct {
			Params map[string]any `json:"params"`
		} `json:"cells"`
	}
	if err := json.Unmarshal([]byte(read("results.json")), &doc); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(doc.Cells[0].Params[key]); got != value {
		t.Errorf("results.json params.%s = %q, want %q", key, got, value)
	}
	// results.csv: a column named key.
	recs, err := csv.NewReader(strings.NewReader(read("results.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(recs[0], key); i < 0 || recs[1][i] != value {
		t.Errorf("results.csv: column %s missing or not %q", key, value)
	}
	// results.parquet: a typed column named key.
	tbl := pqtest.ReadFile(t, filepath.Join(dir, "results.parquet"))
	if idx := tbl.Schema().FieldIndices(key); len(idx) != 1 {
		t.Errorf("results.parquet: no column %s", key)
	} else if got := tbl.Column(idx[0]).Data().Chunk(0).ValueStr(0); got != value {
		t.Errorf("results.parquet %s = %q, want %q", key, got, value)
	}
	// bench.txt names keep '/', '=' and spaces out of values.
	benchWant := key + "=" + strings.NewReplacer("/", "_", "=", "_", " ", "_").Replace(value)
	if !strings.Contains(read("bench.txt"), "/"+benchWant) {
		t.Errorf("bench.txt lacks /%s:\n%s", benchWant, read("bench.txt"))
	}
	if !strings.Contains(read("report.html"), want) {
		t.Errorf("report.html lacks %s", want)
	}
	if !strings.Contains(cell.Key(), want) {
		t.Errorf("compare key %q lacks %s", cell.Key(), want)
	}
	var buf bytes.Buffer
	if err := results.WriteTable(run, &buf); err != nil || !strings.Contains(buf.String(), want) {
		t.Errorf("table lacks %s (%v):\n%s", want, err, buf.String())
	}
}

// planRun expands a shipped config into a run whose cells have fabricated
// repetitions (no ORT needed): what bench.txt and benchstat see.
func planRun(t *testing.T, path string) *results.Run {
	t.Helper()
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, strategies(), config.Machine{LogicalCores: 2, PhysicalCores: 2}, formats().Names()...)
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{Schema: results.Schema, Experiment: results.Experiment{Name: cfg.Name}}
	for i, pc := range plan.Cells {
		c := results.Cell{Name: pc.Name, Strategy: pc.Strategy, Params: pc.Params, Status: results.StatusOK,
			Workload: results.Workload{Kind: cfg.Workload.Kind, Model: cfg.Workload.Model, Rows: 100, Cost: cfg.Workload.Cost}}
		for r := range 6 {
			c.Repetitions = append(c.Repetitions, results.Repetition{RowsPerSecond: float64(1000*(i+1) + r), Passes: 1})
		}
		run.Cells = append(run.Cells, c)
	}
	return run
}

// TestShippedConfigsHaveDistinctBenchNames: every cell of every shipped
// config gets its own bench.txt name, so benchstat never merges two
// settings (spinning on and off were once one row).
func TestShippedConfigsHaveDistinctBenchNames(t *testing.T) {
	files, _ := filepath.Glob("configs/*.yaml") // TestMain runs from the repository root
	if len(files) < 5 {
		t.Fatalf("found %d shipped configs", len(files))
	}
	for _, f := range files {
		run := planRun(t, f)
		seen := map[string]string{}
		for _, c := range run.Cells {
			n := results.BenchName(&c)
			if prev, dup := seen[n]; dup {
				t.Errorf("%s: %s and %s share the bench name %s", f, prev, c.Name, n)
			}
			seen[n] = c.Name
		}
	}
}

// TestReadmeBenchstatCommand runs the benchstat command README shows on a
// bench.txt of every shipped config's cells: its -ignore names every key
// that only some of a config's cells carry (otherwise benchstat gives
// those cells rows of their own, and the strategies no longer sit side by
// side), and benchstat puts one column per strategy, each summarising
// six or more repetitions.
func TestReadmeBenchstatCommand(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(readme), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "benchstat" && slices.Contains(f, "-col") {
			args = f[1 : len(f)-1] // the last word is the file
			break
		}
	}
	if args == nil {
		t.Fatal("README shows no `benchstat -col …` command")
	}
	ignored := map[string]bool{}
	if i := slices.Index(args, "-ignore"); i >= 0 && i+1 < len(args) {
		for _, k := range strings.Split(args[i+1], ",") {
			ignored[strings.TrimPrefix(k, "/")] = true
		}
	}
	bin := filepath.Join(t.TempDir(), "benchstat")
	if out, err := exec.Command("go", "build", "-o", bin, "golang.org/x/perf/cmd/benchstat").CombinedOutput(); err != nil {
		t.Fatalf("building benchstat: %v\n%s", err, out)
	}
	files, _ := filepath.Glob("configs/*.yaml") // TestMain runs from the repository root
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			run := planRun(t, f)
			for _, k := range partialKeys(run) {
				if !ignored[k] {
					t.Errorf("README's benchstat -ignore lacks /%s, which only some of %s's cells carry", k, f)
				}
			}
			benchstatByStrategy(t, bin, args, run)
		})
	}
}

// partialKeys are the parameter keys some but not all of a run's cells carry.
func partialKeys(run *results.Run) []string {
	count := map[string]int{}
	for _, c := range run.Cells {
		for _, p := range c.Params {
			count[p.Key]++
		}
	}
	var out []string
	for k, n := range count {
		if n < len(run.Cells) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// benchstatByStrategy runs benchstat with args on run's bench.txt and
// checks each strategy has its column, each summarised from ≥ 6 samples.
func benchstatByStrategy(t *testing.T, bin string, args []string, run *results.Run) {
	t.Helper()
	bench := filepath.Join(t.TempDir(), "bench.txt")
	var buf bytes.Buffer
	if err := results.EncodeBenchfmt(run, &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bench, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(slices.Clone(args), bench)...).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat %v: %v\n%s", args, err, out)
	}
	text := string(out)
	for _, c := range run.Cells {
		if !strings.Contains(text, c.Strategy) {
			t.Errorf("benchstat output has no column for %s:\n%s", c.Strategy, text)
		}
	}
	if strings.Contains(text, "need >= 6") {
		t.Errorf("benchstat did not summarise each strategy's six repetitions:\n%s", text)
	}
}

// runKeyValues are run-level keys (not a strategy's) whose value must
// reach results.json: TestProfileKeyReachesResultsAndCompare and
// TestPercentilesKeyReachesEveryOutput give them.
var runKeyValues = map[string]string{
	"profile":     "true",
	"percentiles": "[50, 99.99]", // TestPercentilesKeyReachesEveryOutput
}

// profiled is a run of the small MLP with profile set and the graph
// optimisation level OPT.
const profiled = `
name: prof
workload:
  model: REPO/training/models/mlp_small_digits.onnx
  dataset: {path: REPO/datasets/data/digits.parquet, label: label}
  rows: 256
batch_sizes: [32]
repetitions: 1
warmup_batches: 1
session: {graph_optimization: OPT}
strategies:
  - strategy: sequential
  - strategy: intra-op
    threads: 2
`

// TestProfileKeyReachesResultsAndCompare runs the small MLP twice with
// profile: true, graph optimisation all and then disabled (two op mixes:
// FusedGemm against MatMul and Add), and checks each cell's operators and
// placement in results.json, then compare's operator changes in its text
// and JSON.
func TestProfileKeyReachesResultsAndCompare(t *testing.T) {
	out := t.TempDir()
	var runs []string
	for _, opt := range []string{"all", "disabled"} {
		cfg := writeConfig(t, strings.Replace(profiled, "OPT", opt, 1)+"profile: "+runKeyValues["profile"]+"\n")
		dir := filepath.Join(out, opt)
		if code, stdout, errs := cli(t, "run", "-q", "-c", cfg, "--out", dir); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", opt, code, stdout, errs)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "prof", "*", "results.json"))
		if len(files) != 1 {
			t.Fatalf("%s: no results.json", opt)
		}
		runs = append(runs, files[0])
		run, err := results.ReadJSON(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if !run.Settings.Profile || len(run.Cells) != 2 {
			t.Fatalf("%s: settings.profile %v, %d cells", opt, run.Settings.Profile, len(run.Cells))
		}
		for _, c := range run.Cells {
			p := c.Profile
			if p == nil || p.Runs == 0 || p.BatchSize != 32 || len(p.Ops) == 0 || len(p.Placement) != 1 ||
				p.Placement[0].Provider != "CPUExecutionProvider" || p.Placement[0].Nodes == 0 ||
				p.FLOPs <= 0 || p.Placement[0].FLOPs != p.FLOPs || p.Placement[0].FLOPsShare != 1 {
				t.Fatalf("%s %s: profile %+v", opt, c.Name, p)
			}
		}
	}
	code, text, errs := cli(t, "compare", runs[0], runs[1])
	if code != 0 || !strings.Contains(text, "operators whose share of the kernel time changed most") || !strings.Contains(text, "FusedGemm") || !strings.Contains(text, "MatMul") {
		t.Fatalf("compare: exit %d\n%s%s", code, text, errs)
	}
	code, js, errs := cli(t, "compare", runs[0], runs[1], "-o", "json")
	var rep struct {
		Cells []struct {
			Ops []map[string]any `json:"op_changes"`
		} `json:"cells"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &rep) != nil || len(rep.Cells) != 2 {
		t.Fatalf("compare -o json: exit %d\n%s%s", code, js, errs)
	}
	for _, c := range rep.Cells {
		fused := slices.IndexFunc(c.Ops, func(o map[string]any) bool {
			return o["op"] == "FusedGemm" && o["old_seconds_per_call"].(float64) > 0 && o["new_seconds_per_call"].(float64) == 0
		})
		if fused < 0 {
			t.Errorf("op changes %v: want FusedGemm only in the optimised run", c.Ops)
		}
	}
}

// TestProfileKeyBadValue: profile takes a bool, at validate.
func TestProfileKeyBadValue(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(profiled, "OPT", "all", 1)+"profile: often\n")
	code, out, errs := cli(t, "validate", "-c", cfg)
	if code != exitInvalid || !strings.Contains(errs, "profile") || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// TestPercentilesKeyReachesEveryOutput runs the small MLP with
// percentiles [50, 99.99] and checks every file the run writes lists
// exactly those latency percentiles (results.json records the list and
// keeps p50 and p99 in each latency object), then that compare shows the
// tail one.
func TestPercentilesKeyReachesEveryOutput(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(profiled, "OPT", "all", 1)+"percentiles: "+runKeyValues["percentiles"]+"\n")
	out := t.TempDir()
	if code, stdout, errs := cli(t, "run", "-q", "-c", cfg, "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	files, _ := filepath.Glob(filepath.Join(out, "prof", "*", "results.json"))
	if len(files) != 1 {
		t.Fatal("no results.json")
	}
	dir := filepath.Dir(files[0])
	run, err := results.ReadJSON(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(run.Settings.Percentiles, []float64{50, 99.99}) {
		t.Fatalf("settings.percentiles %v", run.Settings.Percentiles)
	}
	for _, c := range run.Cells {
		l := c.Latency
		if len(l.Listed) != 1 || l.Listed[0].P != 99.99 || l.At(99.99) < l.P99 || l.P99 < l.P50 || l.P50 <= 0 || c.Repetitions[0].Latency["p99.99"] <= 0 {
			t.Errorf("%s: latency %+v, repetition %v", c.Name, l, c.Repetitions[0].Latency)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	csvHeader, _ := csv.NewReader(strings.NewReader(read("results.csv"))).Read()
	for name, words := range map[string][]string{
		"results.csv": csvHeader,
		"bench.txt":   strings.Fields(read("bench.txt")),
		"summary.md":  strings.Split(read("summary.md"), " | "),
		"report.html": strings.FieldsFunc(read("report.html"), func(r rune) bool { return r == '<' || r == '>' }),
	} {
		var got []string
		for _, w := range words {
			if w == "latency_p50_seconds" || w == "latency_p99_99_seconds" || w == "p50-ns/batch" || w == "p99.99-ns/batch" || w == "p50" || w == "p99.99" {
				got = append(got, w)
			}
			if strings.HasPrefix(w, "latency_p9") && w != "latency_p99_99_seconds" || w == "p90" || w == "p99" || w == "p99.9" || w == "p99-ns/batch" {
				t.Errorf("%s lists %s", name, w)
			}
		}
		if len(got) < 2 {
			t.Errorf("%s lists %v, want p50 and p99.99", name, got)
		}
	}
	code, text, errs := cli(t, "compare", files[0], files[0])
	if code != 0 || !strings.Contains(text, "old p99.99") || strings.Contains(text, "old p99 ") {
		t.Fatalf("compare: exit %d\n%s%s", code, text, errs)
	}
}

// TestPercentilesKeyBadValue: an unsorted list is a one-line error at
// validate naming the key and the value.
func TestPercentilesKeyBadValue(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(profiled, "OPT", "all", 1)+"percentiles: [99, 50]\n")
	code, out, errs := cli(t, "validate", "-c", cfg)
	if code != exitInvalid || !strings.Contains(errs, "percentiles: 50 after 99") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
