package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

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
	"transport":        "copy",
	"start":            "per-run",
	"start_method":     "spawn",
	"data":             "shared_memory",
}

// TestEveryKeyReachesEveryOutput gives each key of each registered strategy
// a non-default value in a config, expands it, and checks that the value is
// in the cell's name, description-independent identity and in every output:
// results.json params, the CSV and Parquet columns, the bench.txt name, the
// HTML report and compare's matching key.
func TestEveryKeyReachesEveryOutput(t *testing.T) {
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
		Repetitions: []results.Repetition{{RowsPerSecond: 1000, Passes: 1, WallSeconds: 0.1}},
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
	pf, err := file.OpenParquetFile(filepath.Join(dir, "results.parquet"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if idx := tbl.Schema().FieldIndices(key); len(idx) != 1 {
		t.Errorf("results.parquet: no column %s", key)
	} else if got := tbl.Column(idx[0]).Data().Chunk(0).ValueStr(0); got != value {
		t.Errorf("results.parquet %s = %q, want %q", key, got, value)
	}
	if !strings.Contains(read("bench.txt"), "/"+want) {
		t.Errorf("bench.txt lacks /%s:\n%s", want, read("bench.txt"))
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
