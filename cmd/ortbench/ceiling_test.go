package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestCeiling measures a short ceiling, caches it, and reads it back.
func TestCeiling(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, out, errs := cli(t, "ceiling", "--threads", "2", "--duration", "100ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var c results.Ceiling
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(c.Points) != 2 || c.Points[0].GFLOPS <= 0 || c.FlopsPerRun != 2*256*1024*1024 || c.Cache == "" ||
		c.Points[1].BandwidthGBPS <= 0 || c.BandwidthBytesPerRun != 12<<23 {
		t.Fatalf("ceiling = %+v", c)
	}
	code, out, errs = cli(t, "ceiling", "--threads", "2", "--duration", "100ms", "--cached")
	if code != 0 {
		t.Fatalf("--cached: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"cached, measured", "best GFLOP/s", "best GB/s", "bandwidth model: add [1,8388608]+[8388608] float32 (96 MiB moved a run)", "cache: " + c.Cache} {
		if !strings.Contains(out, want) {
			t.Errorf("--cached output lacks %q:\n%s", want, out)
		}
	}
	// Other settings have no cache yet: one line saying how to make one.
	code, _, errs = cli(t, "ceiling", "--threads", "1", "--cached")
	if code == 0 || !strings.Contains(errs, "run `ortbench ceiling` first") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
		t.Errorf("--cached without a cache: exit %d, %q", code, errs)
	}
}

// TestCeilingWithoutLibrary: in a process that cannot find the library,
// ceiling fails with one line naming it.
func TestCeilingWithoutLibrary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "ceiling")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), mainEnv+"=1", "ORTBENCH_ORT_LIB=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("ceiling without a library succeeded:\n%s", out)
	}
	s := strings.TrimSpace(string(out))
	if strings.Count(s, "\n") > 0 || !strings.HasPrefix(s, "ortbench: ceiling: onnxruntime shared library not found") {
		t.Errorf("want one line naming the library, got:\n%s", s)
	}
}

// TestRunWithCeiling: `ceiling: true` puts the measured ceiling in the
// environment block and each cell's GFLOP/s and share of it in every output.
func TestRunWithCeiling(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	out := t.TempDir()
	cfg := writeConfig(t, good+"repetitions: 2\nwarmup_batches: 1\nname: roof\nceiling: true\n")
	code, stdout, errs := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	files, _ := filepath.Glob(filepath.Join(out, "roof", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("results.json not written under %s", out)
	}
	run, err := results.ReadJSON(files[0])
	if err != nil {
		t.Fatal(err)
	}
	ceil := run.Environment.Ceiling
	if ceil == nil || len(ceil.Points) != run.Environment.LogicalCores || ceil.Points[0].GFLOPS <= 0 {
		t.Fatalf("environment.ceiling = %+v", ceil)
	}
	c := run.Cells[0].Compute
	if c == nil || c.FlopsPerRow != 120 || c.GFLOPS == nil || c.PctOfCeiling == nil || c.CeilingThreads != 1 {
		t.Fatalf("compute = %+v", c)
	}
	if want := 120 * run.Cells[0].RowsPerSecond / 1e9; *c.GFLOPS != want {
		t.Errorf("gflops = %g, want %g", *c.GFLOPS, want)
	}
	// logreg at batch 64: a 120-byte input row, a 16-byte output row
	// (int64 label + 2 float32) and 248 bytes of coefficients ÷ 64.
	if c.BytesPerRow == nil || *c.BytesPerRow != 120+16+248.0/64 || c.FlopsPerByte == nil || *c.FlopsPerByte != 120/(120+16+248.0/64) {
		t.Errorf("bytes per row %v, flops per byte %v", c.BytesPerRow, c.FlopsPerByte)
	}
	if c.CeilingBandwidthGBPS == nil || *c.CeilingBandwidthGBPS <= 0 || c.AttainableGFLOPS == nil || *c.AttainableGFLOPS > *c.CeilingGFLOPS {
		t.Errorf("roofline: bandwidth %v, attainable %v", c.CeilingBandwidthGBPS, c.AttainableGFLOPS)
	}
	csv, err := os.ReadFile(filepath.Join(filepath.Dir(files[0]), "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(string(csv), "\n", 2)[0]
	for _, col := range []string{",flops_per_row,", ",gflops,", ",ceiling_gflops,", ",pct_of_ceiling,", ",bytes_per_row,", ",flops_per_byte,", ",ceiling_bandwidth_gbps,", ",attainable_gflops,"} {
		if !strings.Contains(header, col) {
			t.Errorf("results.csv lacks column %s: %s", col, header)
		}
	}
}
