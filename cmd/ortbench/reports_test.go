package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/results"
)

// execute runs one subcommand in-process and returns its stdout and error.
func execute(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// synthRun is a run of experiment exp whose one cell ran at about rps rows/s.
func synthRun(exp string, rps float64) *results.Run {
	c := results.Cell{Name: "worker-pool/workers=2/batch=64", Strategy: "worker-pool", Status: results.StatusOK,
		Params: results.NewParams("workers", 2, "threads", 1, "batch_size", 64), Workload: results.Workload{Kind: "onnx", Model: "m.onnx", Rows: 1000},
		RowsPerSecond: rps, Latency: results.Latency{P50: 0.001, P99: 0.002}}
	for _, f := range []float64{0.99, 1.01, 1, 0.995, 1.005, 1.002} {
		c.Repetitions = append(c.Repetitions, results.Repetition{RowsPerSecond: rps * f, P99Seconds: 0.002 / f})
	}
	return &results.Run{Schema: results.Schema, Experiment: results.Experiment{Name: exp}, Cells: []results.Cell{c}}
}

func writeRun(t *testing.T, path string, run *results.Run) string {
	t.Helper()
	var buf bytes.Buffer
	if err := results.EncodeJSON(run, &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompareCmd(t *testing.T) {
	dir := t.TempDir()
	old := writeRun(t, filepath.Join(dir, "old.json"), synthRun("quick", 1000))
	slower := writeRun(t, filepath.Join(dir, "slower.json"), synthRun("quick", 800))
	same := writeRun(t, filepath.Join(dir, "same.json"), synthRun("quick", 1000))

	out, err := execute(t, newCompareCmd(), old, slower)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "slower") || !strings.Contains(out, "-20.00%") {
		t.Errorf("output:\n%s", out)
	}

	_, err = execute(t, newCompareCmd(), old, slower, "--fail-on-regression", "5")
	var coded *exitCodeError
	if !errors.As(err, &coded) || coded.ExitCode() != exitRegression || exitCode(err) != exitRegression {
		t.Fatalf("want exit %d, got %v", exitRegression, err)
	}
	if !strings.Contains(err.Error(), "worker-pool/workers=2/batch=64") {
		t.Errorf("error does not name the cell: %v", err)
	}
	if _, err := execute(t, newCompareCmd(), old, slower, "--fail-on-regression", "25"); err != nil {
		t.Errorf("a 20%% drop under a 25%% gate: %v", err)
	}
	if _, err := execute(t, newCompareCmd(), old, same, "--fail-on-regression", "1"); err != nil {
		t.Errorf("no change failed the gate: %v", err)
	}
	for _, bad := range []string{"0", "-5", "NaN", "+Inf"} {
		if _, err := execute(t, newCompareCmd(), old, same, "--fail-on-regression", bad); exitCode(err) != exitInvalid || !strings.Contains(fmt.Sprint(err), "--fail-on-regression") {
			t.Errorf("--fail-on-regression %s: %v (exit %d), want refused", bad, err, exitCode(err))
		}
	}

	out, err = execute(t, newCompareCmd(), old, slower, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Cells []struct{ Verdict string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Cells) != 1 || rep.Cells[0].Verdict != "slower" {
		t.Errorf("json: %v %s", err, out)
	}

	if _, err := execute(t, newCompareCmd(), old, slower, "-o", "yaml"); exitCode(err) != exitInvalid {
		t.Errorf("bad --output: %v (exit %d)", err, exitCode(err))
	}
}

func TestCompareCmdDirectories(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "results", "quick")
	writeRun(t, filepath.Join(exp, "20260101T000000Z", "results.json"), synthRun("quick", 500))
	newest := writeRun(t, filepath.Join(exp, "20260102T000000Z", "results.json"), synthRun("quick", 800))
	old := writeRun(t, filepath.Join(dir, "base", "results.json"), synthRun("quick", 1000))
	// An experiment directory means its newest run; a run directory means itself.
	out, err := execute(t, newCompareCmd(), filepath.Dir(old), exp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "-20.00%") {
		t.Errorf("did not pick the newest run (%s):\n%s", newest, out)
	}
	if _, err := execute(t, newCompareCmd(), old, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no results.json") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestCompareCmdBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeRun(t, filepath.Join(dir, "good.json"), synthRun("quick", 1000))
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.json")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"schema": "ortbench/results/v0", "cells": []}`), 0o644)
	different := writeRun(t, filepath.Join(dir, "different.json"), synthRun("batching", 1000))

	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"truncated":   {[]string{good, truncated}, []string{truncated, "not a results file"}},
		"schema":      {[]string{other, good}, []string{other, `schema "ortbench/results/v0"`, results.Schema}},
		"experiments": {[]string{good, different}, []string{"comparing different experiments: quick vs batching"}},
		"missing":     {[]string{good, filepath.Join(dir, "nope.json")}, []string{"nope.json"}},
		"one arg":     {[]string{good}, []string{"accepts 2 arg(s)"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := execute(t, newCompareCmd(), tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestReportCmd(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, filepath.Join(dir, "run", "results.json"), synthRun("quick", 1000))
	out, err := execute(t, newReportCmd(), path)
	if err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "run", "report.html")
	if !strings.Contains(out, html) {
		t.Errorf("output %q does not name %s", out, html)
	}
	data, err := os.ReadFile(html)
	if err != nil || !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) || !bytes.Contains(data, []byte(`id="chart-pareto"`)) {
		t.Fatalf("report.html: %v %.80s", err, data)
	}
	out, err = execute(t, newReportCmd(), filepath.Join(dir, "run"), "-o", "-", "--format", "benchfmt")
	if err != nil || !strings.Contains(out, "BenchmarkInfer/model=m/strategy=worker-pool") {
		t.Errorf("benchfmt to stdout: %v\n%s", err, out)
	}
	if _, err := execute(t, newReportCmd(), path, "--format", "pdf"); exitCode(err) != exitInvalid || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := execute(t, newReportCmd(), bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("broken file: %v", err)
	}
}

func TestSysinfoCmd(t *testing.T) {
	out, err := execute(t, newSysinfoCmd(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var env results.Environment
	if err := json.Unmarshal([]byte(out), &env); err != nil || env.LogicalCores < 1 || env.GoVersion == "" {
		t.Errorf("json: %v %s", err, out)
	}
	out, err = execute(t, newSysinfoCmd())
	if err != nil || !strings.Contains(out, "cores:") || !strings.Contains(out, "onnxruntime:") {
		t.Errorf("text: %v\n%s", err, out)
	}
}

func TestInspectCmd(t *testing.T) {
	model := filepath.Join("training", "models", "mlp_large_digits.onnx")
	if _, err := os.Stat(model); err != nil {
		t.Skip("no trained model:", err)
	}
	out, err := execute(t, newInspectCmd(), model)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"skl2onnx", "ai.onnx.ml 1", "MatMul 3", "FLOPs/item:", "input: float32[N, 64]", "probabilities: float32[N, 10]"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	out, err = execute(t, newInspectCmd(), model, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Inputs []struct{ Name string }
		Graph  struct {
			Flops int64 `json:"flops_per_row"`
		}
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil || len(in.Inputs) != 1 || in.Graph.Flops <= 0 {
		t.Errorf("json: %v %s", err, out)
	}
	notModel := filepath.Join(t.TempDir(), "x.onnx")
	os.WriteFile(notModel, []byte("hello"), 0o644)
	if _, err := execute(t, newInspectCmd(), notModel); err == nil || !strings.Contains(err.Error(), "not a readable ONNX model") {
		t.Errorf("not a model: %v", err)
	}
}

// TestInspectCmdWithoutORT checks inspect still describes a model when the
// ONNX Runtime library cannot be loaded. ORT loads once per process, so the
// check runs in a child test process that never loads it.
func TestInspectCmdWithoutORT(t *testing.T) {
	model := filepath.Join("training", "models", "logreg_breast_cancer.onnx")
	if _, err := os.Stat(model); err != nil {
		t.Skip("no trained model:", err)
	}
	if os.Getenv("ORTBENCH_TEST_NO_ORT") == "1" {
		out, err := execute(t, newInspectCmd(), model, "--ort-lib", filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"ONNX Runtime not loaded", "onnxruntime shared library not found", "input: float32[N, 30]", "LinearClassifier", "FLOPs/row:   120"} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect lacks %q:\n%s", want, out)
			}
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestInspectCmdWithoutORT$", "-test.v")
	cmd.Env = append(os.Environ(), "ORTBENCH_TEST_NO_ORT=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestReportFormatHelp: --format's help names every registered format, so
// a new format cannot be left out of it.
func TestReportFormatHelp(t *testing.T) {
	code, out, errs := cli(t, "report", "--help")
	if code != exitOK {
		t.Fatalf("report --help: exit %d: %s", code, errs)
	}
	for _, name := range formats().Names() {
		if !strings.Contains(out, name) {
			t.Errorf("report --help does not name format %q:\n%s", name, out)
		}
	}
}
