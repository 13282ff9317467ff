package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mainEnv makes this test binary act as the ortbench binary: the processes
// strategy starts os.Executable() as its workers ("<exe> worker"), and
// tests that need a fresh process (nothing loaded yet) start it too.
const mainEnv = "ORTBENCH_CLI_TEST_MAIN"

func init() {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// TestRunDefaultFromAnyDirectory: `cd /tmp && ortbench run` — no -c, a
// working directory far from the repository — runs the embedded default
// (with its model, dataset and reference predictions), verifies every cell
// and writes results under ./results.
func TestRunDefaultFromAnyDirectory(t *testing.T) {
	t.Setenv(mainEnv, "1") // for the processes cell's workers
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	wd := t.TempDir()
	t.Chdir(wd)
	code, stdout, stderr := cli(t, "run", "-q", "--repetitions", "1", "--min-duration", "0s", "--warmup", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(wd, "results", "quick", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("results.json not written under %s/results:\n%s", wd, stdout)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Cells []struct {
			Strategy     string
			Status       string
			Verification struct {
				Passed      bool
				RowsChecked int `json:"rows_checked"`
			}
		}
	}
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) < 7 {
		t.Fatalf("%d cells, want quick.yaml's", len(run.Cells))
	}
	for _, c := range run.Cells {
		if c.Status == "failed" || c.Status == "skipped" || !c.Verification.Passed || c.Verification.RowsChecked == 0 {
			t.Errorf("%s: status %s, verification %+v", c.Strategy, c.Status, c.Verification)
		}
	}
	if !strings.Contains(stdout, "processes/") {
		t.Errorf("no processes cell in the table:\n%s", stdout)
	}
}

// TestValidateDefaultFromAnyDirectory: the embedded default also validates
// (model, dataset, widths) from a directory with no configs/ or training/.
func TestValidateDefaultFromAnyDirectory(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Chdir(t.TempDir())
	code, out, errs := cli(t, "validate")
	if code != 0 || !strings.Contains(out, "quick: ") || !strings.Contains(out, "1797 rows") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, cache) {
		t.Errorf("the model is not read from the extracted copy under %s:\n%s", cache, out)
	}
}
