package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
)

func TestDatasetsSynth(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "sub", "a.parquet"), filepath.Join(dir, "b.parquet")
	for _, out := range []string{a, b} {
		code, stdout, stderr := cli(t, "datasets", "synth", "--rows", "3000", "--features", "64", "--classes", "10", "--seed", "7", "--out", out)
		if code != 0 || !strings.Contains(stdout, "3000 rows × 64 features") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if len(da) == 0 || !bytes.Equal(da, db) {
		t.Fatal("the same flags gave different files")
	}
	tab, err := datasets.Load(datasets.Spec{Path: a})
	if err != nil || tab.Rows != 3000 || tab.Width != 64 || len(tab.Labels) != 3000 {
		t.Fatalf("load: %v", err)
	}
}

func TestDatasetsSynthUsage(t *testing.T) {
	for _, args := range [][]string{
		{"datasets", "synth", "--rows", "10"},
		{"datasets", "synth", "--rows", "0", "--out", filepath.Join(t.TempDir(), "x.parquet")},
		{"datasets", "synth", "--rows", "10", "--classes", "1", "--out", filepath.Join(t.TempDir(), "x.parquet")},
	} {
		if code, _, stderr := cli(t, args...); code != exitInvalid || !strings.Contains(stderr, "ortbench:") {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
}

func TestWorkerByHand(t *testing.T) {
	code, _, stderr := cli(t, "worker")
	if code == 0 || !strings.Contains(stderr, "started by `ortbench run`") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestSynthLikeAModel: rows generated --like a model carry its feature
// names, so the model accepts them (columns are matched by name).
func TestSynthLikeAModel(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "like.parquet")
	if code, out, errs := cli(t, "datasets", "synth", "--rows", "300", "--like", "training/models/mlp_small_digits.onnx", "--out", data); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	cfg := filepath.Join(dir, "x.yaml")
	body := "workload:\n  model: " + filepath.Join(repoRoot(t), "training/models/mlp_small_digits.onnx") + "\n  dataset: {path: " + data + ", label: label}\nstrategies: [{strategy: sequential}]\noutput: {dir: " + dir + "}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli(t, "validate", "-c", cfg); code != 0 || !strings.Contains(out, "300 rows × 64 values") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	// Without --like the columns are f0..f63, which the model does not know.
	plain := filepath.Join(dir, "plain.parquet")
	cli(t, "datasets", "synth", "--rows", "300", "--features", "64", "--out", plain)
	if err := os.WriteFile(cfg, []byte(strings.Replace(body, data, plain, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli(t, "validate", "-c", cfg); code != 2 || !strings.Contains(errs, "pixel_0_0") {
		t.Fatalf("f0..f63 against the model: exit %d, %s", code, errs)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd() // TestMain runs from the repository root
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
