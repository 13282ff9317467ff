package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/config"
)

// cli runs the CLI in-process from the repository root.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// cliOn is cli with plans expanded for machine m, not this host.
func cliOn(t *testing.T, m config.Machine, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runOn(func(context.Context) config.Machine { return m }, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMain(m *testing.M) {
	// Run from the repository root, as a user would.
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		panic(err)
	}
	code := m.Run()
	if chaosBin != "" { // builtBinary's, shared by TestChaos and TestDiskFull
		os.RemoveAll(filepath.Dir(chaosBin))
	}
	os.Exit(code)
}

// TestValidateShippedConfigs loads every configs/*.yaml fully: model,
// dataset, column selection and widths.
func TestValidateShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("configs/*.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			args := []string{"validate", "-c", f}
			data, _ := os.ReadFile(f)
			if m := regexp.MustCompile(`\.\./((?:datasets/synth|models)/\S+)`).FindSubmatch(data); m != nil {
				if _, err := os.Stat(string(m[1])); err != nil {
					args = append(args, "--no-load") // generated data (make synth-data) or the zoo (make zoo) not there yet
				}
			}
			code, out, errs := cli(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			if !strings.Contains(out, "cells") {
				t.Fatalf("no plan printed:\n%s", out)
			}
		})
	}
}

func TestValidateEmbeddedDefault(t *testing.T) {
	code, out, errs := cli(t, "validate")
	if code != 0 || !strings.Contains(out, "quick") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bad.yaml")
	root, _ := os.Getwd()
	body = strings.ReplaceAll(body, "REPO", root)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const good = `
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
batch_sizes: [64]
strategies:
  - strategy: sequential
`

// TestBadInput: every kind of bad config is one clear line per problem
// naming the file, the key and the fix, with exit code 2 — never a panic.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"missing file", "", []string{"no such file"}},
		{"unknown key", good + "warmup: 3\n", []string{"bad.yaml:8: warmup: unknown key"}},
		{"negative workers", good + "  - strategy: goroutines\n    workers: -1\n", []string{"strategies[1]", "workers=-1/batch_size=64: must be ≥ 1, got -1"}},
		{"missing model", strings.Replace(good, "logreg_breast_cancer.onnx", "nope.onnx", 1), []string{"workload.model", "nope.onnx", "no such file"}},
		{"missing dataset", strings.Replace(good, "breast_cancer.parquet", "nope.parquet", 1), []string{"workload.dataset.path", "nope.parquet"}},
		{"column not found", strings.Replace(good, "label: label}", "label: label, features: [nope]}", 1), []string{"workload", `"nope"`}},
		{"width mismatch", strings.Replace(good, "breast_cancer.parquet", "digits.parquet", 1), []string{"the model was trained on 30 features and the file lacks 30 of them"}},
		{"wrong type", good + "repetitions: lots\n", []string{"repetitions", "not an integer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "does/not/exist.yaml"
			if tc.body != "" {
				path = writeConfig(t, tc.body)
			}
			code, out, errs := cli(t, "validate", "-c", path)
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitInvalid, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not contain %q", errs, w)
				}
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
				t.Fatalf("panicked:\n%s", errs)
			}
		})
	}
}

// TestRunWritesResults runs a small experiment end to end through the CLI.
func TestRunWritesResults(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, good+"  - strategy: goroutines\n    workers: 2\nrepetitions: 2\nwarmup_batches: 1\nname: cli\n")
	code, stdout, errs := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	for _, want := range []string{"sequential/batch_size=64", "goroutines/workers=2/batch_size=64", "yes", "results: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "cli", "*", "results.json"))
	if len(dirs) != 1 {
		t.Fatalf("results.json not written under %s", out)
	}
	for _, f := range []string{"results.csv", "config.yaml"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(dirs[0]), f)); err != nil {
			t.Error(err)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"validate", "--help"}} {
		code, out, _ := cli(t, args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// TestReadmeExample validates the experiment the README shows, so the
// documentation cannot drift from what ortbench accepts.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Writing an experiment")
	if !ok {
		t.Fatal("README has no 'Writing an experiment' section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok || !strings.Contains(example, "strategies:") {
		t.Fatalf("no yaml example found:\n%s", example)
	}
	// The example's paths are relative to configs/.
	path := filepath.Join("configs", "readme-example.yaml.tmp")
	if err := os.WriteFile(path, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	code, out, errs := cli(t, "validate", "-c", path)
	if code != 0 {
		t.Fatalf("README example does not validate (exit %d):\n%s%s", code, out, errs)
	}
}

func TestStrategiesListsEveryStrategy(t *testing.T) {
	code, out, errs := cli(t, "strategies")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, name := range []string{"sequential", "goroutines", "worker-pool", "pipeline", "intra-op", "inter-op", "hybrid", "processes", "py-pool"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("%s missing from:\n%s", name, out)
		}
	}
}

// TestEveryCommandHasExamples walks the command tree: every command a user
// can call (hidden ones and cobra's own help and completion aside) shows
// an Examples section in its help.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q: no Example in its help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	if _, out, _ := cli(t, "run", "--help"); !strings.Contains(out, "Examples:") {
		t.Errorf("run --help shows no Examples section:\n%s", out)
	}
}

// TestRunFileWithoutC: a positional file answers with one line pointing at
// -c, and a usage exit, for run and validate.
func TestRunFileWithoutC(t *testing.T) {
	for _, cmd := range []string{"run", "validate"} {
		code, out, errs := cli(t, cmd, "configs/quick.yaml")
		if code != exitInvalid {
			t.Errorf("%s FILE: exit %d, want %d (usage)", cmd, code, exitInvalid)
		}
		if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) != 1 || !strings.Contains(errs, "-c configs/quick.yaml") {
			t.Errorf("%s FILE: stderr %q, want one line naming -c configs/quick.yaml (stdout %q)", cmd, errs, out)
		}
	}
}
