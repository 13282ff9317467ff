package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

var machine = Machine{LogicalCores: 2, PhysicalCores: 2}

const base = `
name: t
workload:
  model: m.onnx
  dataset:
    path: d.parquet
batch_sizes: [1, 8]
strategies:
  - strategy: sequential
  - strategy: worker-pool
    workers: [1, 2]
`

func plan(t *testing.T, yaml string) (*Plan, error) {
	t.Helper()
	cfg, err := Load("x.yaml", []byte(yaml), nil)
	if err != nil {
		return nil, err
	}
	return Expand(cfg, strategy.Default(), machine, "json", "csv", "parquet", "benchfmt", "html")
}

func TestExpandSweep(t *testing.T) {
	p, err := plan(t, base)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.Cells {
		names = append(names, c.Name)
	}
	want := []string{
		"sequential/batch_size=1", "sequential/batch_size=8",
		"worker-pool/workers=1/batch_size=1", "worker-pool/workers=2/batch_size=1",
		"worker-pool/workers=1/batch_size=8", "worker-pool/workers=2/batch_size=8",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("cells\n got %v\nwant %v", names, want)
	}
	for i, c := range p.Cells {
		if c.Index != i || c.Description == "" {
			t.Errorf("cell %d: index %d description %q", i, c.Index, c.Description)
		}
	}
	if p.Config.Repetitions != 6 || p.Config.Session.GraphOptimization != "all" || p.Config.Session.Spinning {
		t.Errorf("defaults not applied: reps %d session %+v", p.Config.Repetitions, p.Config.Session)
	}
}

func TestThreadsZeroResolvesToPhysicalCores(t *testing.T) {
	p, err := plan(t, strings.Replace(base, "  - strategy: sequential\n", "  - strategy: intra-op\n    threads: 0\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cells[0]
	if c.Params.Int("threads") != machine.PhysicalCores || !c.Config.Common().Facts.AutoResolved("threads") {
		t.Fatalf("threads 0 resolved to %d (facts %+v)", c.Params.Int("threads"), c.Config.Common().Facts)
	}
}

func TestOversubscriptionWarns(t *testing.T) {
	p, err := plan(t, strings.Replace(base, "workers: [1, 2]", "workers: 4", 1))
	if err != nil {
		t.Fatal(err)
	}
	last := p.Cells[len(p.Cells)-1]
	if len(last.Warnings) == 0 || !strings.Contains(last.Warnings[0], "oversubscribed") {
		t.Fatalf("no oversubscription warning: %+v", last)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", base + "repetitons: 3\n", []string{"x.yaml:12: repetitons: unknown key"}},
		{"unknown nested key", strings.Replace(base, "  model:", "  modle: x\n  model:", 1), []string{"workload.modle: unknown key"}},
		{"wrong type", base + "repetitions: many\n", []string{"repetitions", "not an integer"}},
		{"bool for int", strings.Replace(base, "workers: [1, 2]", "workers: true", 1), []string{"strategies[1].workers"}},
		{"negative workers", strings.Replace(base, "workers: [1, 2]", "workers: [-1]", 1), []string{"x.yaml:11: strategies[1].workers[0]: worker-pool/workers=-1/batch_size=1: must be ≥ 1, got -1"}},
		{"zero batch", strings.Replace(base, "[1, 8]", "[0]", 1), []string{"batch_sizes[0]: must be ≥ 1"}},
		{"unknown strategy", strings.Replace(base, "sequential", "threads", 1), []string{"strategies[0].strategy", `unknown strategy "threads"`, "valid:"}},
		{"key not taken", strings.Replace(base, "  - strategy: sequential\n", "  - strategy: sequential\n    workers: 2\n", 1), []string{"strategies[0].workers", "sequential does not take workers"}},
		{"missing model", strings.Replace(base, "  model: m.onnx\n", "", 1), []string{"workload.model: missing"}},
		{"bad format", base + "output:\n  formats: [xml]\n", []string{"output.formats[0]", `unknown format "xml"`}},
		{"heavy with intra-op", "workload: {kind: heavy-task, items: 10, cost: 10}\nstrategies:\n  - strategy: intra-op\n    threads: 2\n", []string{"intra-op tunes ONNX Runtime sessions"}},
		{"heavy without items", "workload: {kind: heavy-task}\nstrategies: [{strategy: sequential}]\n", []string{"workload.items", "workload.cost"}},
		{"empty list", strings.Replace(base, "workers: [1, 2]", "workers: []", 1), []string{"empty list sweeps nothing"}},
		{"not yaml", "name: [", []string{"x.yaml:"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping"}},
		{"bad graph level", base + "session:\n  graph_optimization: max\n", []string{"session.graph_optimization", "want one of"}},
		{"duplicate cells", base + "  - strategy: sequential\n", []string{"has the same settings as sequential/batch_size=1 from strategies[0]"}},
		{"percentile 100", base + "percentiles: [50, 100]\n", []string{"x.yaml:12: percentiles: 100 is out of range"}},
		{"percentiles unsorted", base + "percentiles: [99, 50]\n", []string{"percentiles: 50 after 99: list them ascending, each once"}},
		{"percentiles repeated", base + "percentiles: [99, 99]\n", []string{"percentiles: 99 after 99"}},
		{"no percentiles", base + "percentiles: []\n", []string{"percentiles: want 1 to 8 percentiles, got 0"}},
		{"percentile not a number", base + "percentiles: [p99]\n", []string{"percentiles"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan(t, tc.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	y := strings.Replace(base, "[1, 8]", "[0]", 1) + "repetitions: 0\n"
	_, err := plan(t, y)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) < 2 {
		t.Fatalf("want several errors, got %v", err)
	}
}

func TestEnvAndFlagsOverrideFile(t *testing.T) {
	t.Setenv("ORTBENCH_REPETITIONS", "3")
	t.Setenv("ORTBENCH_OUTPUT_DIR", "/tmp/elsewhere")
	t.Setenv("ORTBENCH_BATCH_SIZES", "2,4")
	t.Setenv("ORTBENCH_PERCENTILES", "50, 99.99")
	cfg, err := Load("x.yaml", []byte(base+"repetitions: 9\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repetitions != 3 || cfg.Output.Dir != "/tmp/elsewhere" || len(cfg.BatchSizes) != 2 || cfg.BatchSizes[1] != 4 || !slices.Equal(cfg.Percentiles, []float64{50, 99.99}) {
		t.Fatalf("env not applied: reps %d dir %q batches %v percentiles %v", cfg.Repetitions, cfg.Output.Dir, cfg.BatchSizes, cfg.Percentiles)
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("repetitions", 0, "")
	fs.Int("warmup", 0, "")
	if err := fs.Parse([]string{"--repetitions=7"}); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load("x.yaml", []byte(base), fs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repetitions != 7 {
		t.Fatalf("flag beats env: got %d", cfg.Repetitions)
	}
	if cfg.WarmupBatches != 8 {
		t.Fatalf("an unset flag must not override: warmup %d", cfg.WarmupBatches)
	}
}

func TestRelativePathsFollowTheConfigFile(t *testing.T) {
	cfg, err := Load("configs/x.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Abs("../training/m.onnx"); got != filepath.Join("training", "m.onnx") {
		t.Fatalf("Abs = %q", got)
	}
}

// TestShippedConfigs validates every configs/*.yaml (without loading models).
func TestShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no shipped configs found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(f, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Expand(cfg, strategy.Default(), machine); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("workload: {kind: heavy-task, items: 1, cost: 1}\nstrategies: [{strategy: goroutines, workers: [1,2]}]\n"))
	f.Add([]byte("strategies: [{strategy: x, workers: {a: 1}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load("fuzz.yaml", data, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("load error is not ErrInvalid: %v", err)
			}
			return
		}
		p, err := Expand(cfg, strategy.Default(), machine)
		if err == nil && len(p.Cells) == 0 {
			t.Fatal("a valid plan with no cells")
		}
	})
}

// TestPercentiles: the key's default is results.DefaultPercentiles, and a
// list (ints and floats mixed) reaches the config as given.
func TestPercentiles(t *testing.T) {
	for yaml, want := range map[string][]float64{base: results.DefaultPercentiles, base + "percentiles: [50, 99.99]\n": {50, 99.99}} {
		p, err := plan(t, yaml)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Config.Percentiles, want) {
			t.Errorf("percentiles %v, want %v", p.Config.Percentiles, want)
		}
	}
}
