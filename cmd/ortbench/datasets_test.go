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
