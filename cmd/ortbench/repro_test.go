package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/onnx"
)

// TestResolvedConfigReruns: a results folder's config.resolved.yaml records
// what actually ran — the environment's list override as a list, every path
// absolute, the library that was loaded, output.dir where the results went
// — hashes to the results' config_sha256, and re-runs as is from another
// directory with the variables gone, to the same hash.
func TestResolvedConfigReruns(t *testing.T) {
	root, _ := os.Getwd()
	cfgDir := t.TempDir()
	for src, dst := range map[string]string{
		"training/models/logreg_breast_cancer.onnx": "m.onnx",
		"datasets/data/breast_cancer.parquet":       "data/d.parquet",
	} {
		dst = filepath.Join(cfgDir, dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(root, src), dst); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(cfgDir, "x.yaml")
	body := "name: repro\nworkload:\n  model: m.onnx\n  dataset: {path: data/d.parquet, label: label}\n" +
		"warmup_batches: 1\nstrategies:\n  - strategy: sequential\n  - strategy: goroutines\n    workers: [1, 2]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}

	first := t.TempDir()
	t.Chdir(first)
	t.Setenv("ORTBENCH_BATCH_SIZES", "16,64")
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", "res", "--repetitions", "1", "--min-duration", "0s")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(first, "res", "repro", "*"))
	if len(dirs) != 1 {
		t.Fatalf("want one results folder under %s/res/repro, got %v", first, dirs)
	}
	resolved := filepath.Join(dirs[0], "config.resolved.yaml")
	data, err := os.ReadFile(resolved)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		BatchSizes  []int `yaml:"batch_sizes"`
		Repetitions int
		MinDuration string `yaml:"min_duration"`
		Workload    struct {
			Model   string
			Dataset struct{ Path string }
		}
		Output      struct{ Dir string }
		ONNXRuntime struct{ Library string } `yaml:"onnxruntime"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := map[string][2]string{
		"model":               {doc.Workload.Model, filepath.Join(cfgDir, "m.onnx")},
		"dataset.path":        {doc.Workload.Dataset.Path, filepath.Join(cfgDir, "data", "d.parquet")},
		"output.dir":          {doc.Output.Dir, filepath.Join(first, "res")},
		"onnxruntime.library": {doc.ONNXRuntime.Library, onnx.LibraryPath()},
		"min_duration":        {doc.MinDuration, "0s"},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s resolved as %q, want %q", k, v[0], v[1])
		}
	}
	if len(doc.BatchSizes) != 2 || doc.BatchSizes[1] != 64 || doc.Repetitions != 1 {
		t.Errorf("overrides not recorded: batch_sizes %v repetitions %d\n%s", doc.BatchSizes, doc.Repetitions, data)
	}
	// config_sha256 is the resolved config's hash with output.dir left
	// out: where a run writes is not what it measured.
	sum := sha256.Sum256(regexp.MustCompile(`(?m)^  dir: .*$`).ReplaceAll(data, []byte(`  dir: ""`)))
	sha := configSHA(t, dirs[0])
	if sha != hex.EncodeToString(sum[:]) {
		t.Errorf("config_sha256 %s is not the hash of the resolved config without output.dir, %x", sha, sum)
	}

	// Elsewhere, with the override gone: the resolved config alone. (A
	// results folder is named by the second it started.)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	t.Setenv("ORTBENCH_BATCH_SIZES", "")
	t.Chdir(t.TempDir())
	code, stdout, stderr = cli(t, "run", "-q", "-c", resolved)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, cell := range []string{"sequential/batch_size=16", "goroutines/workers=2/batch_size=64"} {
		if !strings.Contains(stdout, cell) {
			t.Errorf("re-run lacks %s:\n%s", cell, stdout)
		}
	}
	dirs, _ = filepath.Glob(filepath.Join(first, "res", "repro", "*"))
	if len(dirs) != 2 {
		t.Fatalf("the re-run did not write beside the first run: %v", dirs)
	}
	if again := configSHA(t, dirs[1]); again != sha {
		t.Errorf("the re-run's config_sha256 %s differs from the run it repeats (%s)", again, sha)
	}
}

func configSHA(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Experiment struct {
			SHA string `json:"config_sha256"`
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r.Experiment.SHA
}
