package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/ortbench/ortbench/internal/golden"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
)

// The golden tests, the benchstat way (golang/perf cmd/benchstat/main_test.go):
// each case runs the CLI in-process and compares its stdout and stderr with
// testdata/golden/NAME.stdout and NAME.stderr. After an intended change,
//
//	go test ./cmd/ortbench -run Golden -update
//
// rewrites them; review the diff before committing it.
//
// What would vary is pinned: the machine (goldenMachine, through
// runOn) for validate's threads and oversubscription warnings; runs
// are not deterministic, so the run table, bench.txt, CSV and compare are
// rendered from two fixed results files (testdata/golden/old.json and
// new.json: a real 4-cell run, rounded, its environment and clock replaced).
// No output printed here reads the clock: timestamps come from the fixtures.

// goldenDir is testdata/golden seen from the repository root, where
// TestMain runs the tests.
const goldenDir = "cmd/ortbench/testdata/golden"

// goldenMachine is the machine validate expands plans for: 4 logical cores
// on 2 physical ones, unlike most hosts that run the tests, so a change
// that reads the host again shows.
var goldenMachine = config.Machine{LogicalCores: 4, PhysicalCores: 2}

func TestGolden(t *testing.T) {
	old, new := filepath.Join(goldenDir, "old.json"), filepath.Join(goldenDir, "new.json")
	cases := []struct {
		name string
		args []string
		code int
		ort  bool // loads the model: needs the ORT library
	}{
		{"validate-quick", []string{"validate", "-c", "configs/quick.yaml"}, exitOK, true},
		{"validate-go-vs-ort-threads", []string{"validate", "-c", "configs/go-vs-ort-threads.yaml"}, exitOK, true},
		{"validate-heavy-task", []string{"validate", "-c", "configs/heavy-task.yaml", "--no-load"}, exitOK, false},
		{"validate-auto-threads", []string{"validate", "-c", filepath.Join(goldenDir, "auto-threads.yaml"), "--no-load"}, exitOK, false},
		{"validate-invalid", []string{"validate", "-c", filepath.Join(goldenDir, "invalid.yaml"), "--no-load"}, exitInvalid, false},
		{"strategies", []string{"strategies"}, exitOK, false},
		{"compare", []string{"compare", old, new}, exitOK, false},
		{"compare-json", []string{"compare", old, new, "-o", "json"}, exitOK, false},
		{"report-benchfmt", []string{"report", old, "--format", "benchfmt", "-o", "-"}, exitOK, false},
		{"report-csv", []string{"report", old, "--format", "csv", "-o", "-"}, exitOK, false},
		{"report-markdown", []string{"report", old, "--format", "markdown", "-o", "-"}, exitOK, false},
		{"inspect-resnet50", []string{"inspect", "onnx/graph/testdata/light_resnet50.onnx"}, exitOK, true},
		{"inspect-tiny-bert", []string{"inspect", "onnx/graph/testdata/tiny_bert.onnx", "--shape", "input_ids=batch,128"}, exitOK, true},
		{"inspect-tiny-bert-no-shape", []string{"inspect", "onnx/graph/testdata/tiny_bert.onnx"}, exitOK, true},
		{"inspect-bad-shape", []string{"inspect", "onnx/graph/testdata/tiny_bert.onnx", "--shape", "input_ids=batch,0"}, exitInvalid, false},
		{"inspect-wrong-input", []string{"inspect", "onnx/graph/testdata/tiny_bert.onnx", "--shape", "ids=batch,8"}, exitInvalid, true},
	}
	_, noORT := onnx.FindLibrary("")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.ort && noORT != nil {
				t.Skipf("no ORT library, so no golden output to compare (or rewrite): %v", noORT)
			}
			code, stdout, stderr := cliOn(t, goldenMachine, c.args...)
			if code != c.code {
				t.Errorf("ortbench %s: exit %d, want %d\nstderr:\n%s", strings.Join(c.args, " "), code, c.code, stderr)
			}
			golden(t, c.name+".stdout", stdout)
			golden(t, c.name+".stderr", stderr)
		})
	}

	// run prints this table after a run (results.Title, then
	// results.WriteTable); here it is rendered from the fixture.
	t.Run("table", func(t *testing.T) {
		run, err := results.ReadJSON(old)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		fmt.Fprintln(&buf, results.Title(run))
		if err := results.WriteTable(run, &buf); err != nil {
			t.Fatal(err)
		}
		golden(t, "table.stdout", buf.String())
	})
}

// TestGoldenBenchNamesDistinct: in the golden bench.txt each cell has its
// own benchmark name (the fixture sweeps spinning, which names once lost),
// so benchstat never merges two settings into one row.
func TestGoldenBenchNamesDistinct(t *testing.T) {
	run, err := results.ReadJSON(filepath.Join(goldenDir, "old.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(goldenDir, "report-benchfmt.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && strings.HasPrefix(f[0], "Benchmark") {
			names[f[0]] = true
		}
	}
	if len(names) != len(run.Cells) {
		t.Fatalf("bench.txt has %d distinct names for %d cells: %v", len(names), len(run.Cells), names)
	}
}

// golden compares got with testdata/golden/name, or rewrites it under
// -update (internal/golden).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join(goldenDir, name), got)
}
