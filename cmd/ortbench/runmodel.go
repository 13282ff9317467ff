package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner/inputs"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

// modelFlags are run's flags for a model file run without a config
// (`ortbench run --model m.onnx`).
type modelFlags struct {
	model   string
	shapes  []string // NAME=DIMS
	inputs  []string // NAME=SPEC
	batches []int
	items   int
}

func addModelFlags(f *pflag.FlagSet, m *modelFlags) {
	f.StringVar(&m.model, "model", "", "run this .onnx model with generated inputs (or the test data beside it) and the default strategies, no config file")
	f.StringArrayVar(&m.shapes, "shape", nil, "with --model: NAME=DIMS sets an input's open dimensions, e.g. input_ids=batch,128 (repeatable)")
	f.StringArrayVar(&m.inputs, "input", nil, "with --model: NAME=SPEC makes an input's values: uniform:LO,HI, normal:MEAN,STD, int:LO,HI or a constant (repeatable)")
	f.IntSliceVar(&m.batches, "batch", nil, "with --model: batch sizes (repeatable; default 1 and 8, or the batch the model fixes)")
	f.IntVar(&m.items, "items", 0, "with --model: items generated per pass (default 64)")
}

// modelConfig writes the experiment `run --model` runs into dir and
// returns its path: the model with generated inputs (or the test data
// beside it when no --input is given), sequential, goroutines and
// worker-pool at one worker per core, intra-op at 2…cores threads and a
// hybrid, every output format. Relative paths are made absolute first.
func modelConfig(m modelFlags, dir string) (string, error) {
	model, err := filepath.Abs(m.model)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(model); err != nil || st.IsDir() {
		return "", fmt.Errorf("--model %s: not a readable .onnx file", m.model)
	}
	wl := map[string]any{"model": model}
	shapes := map[string]any{}
	for _, s := range m.shapes {
		name, dims, ok := strings.Cut(s, "=")
		if !ok || name == "" || dims == "" {
			return "", fmt.Errorf("--shape %q: write NAME=DIMS, e.g. input_ids=batch,128", s)
		}
		shapes[name] = dims
	}
	specs := map[string]any{}
	for _, s := range m.inputs {
		name, sp, err := inputs.ParseInput(s)
		if err != nil {
			return "", fmt.Errorf("--input %q: %v", s, err)
		}
		specs[name] = sp.String()
	}
	wl["shapes"], wl["inputs"] = shapes, specs
	if m.items != 0 {
		wl["items"] = m.items
	}
	if td := filepath.Dir(model); len(m.inputs) == 0 && m.items == 0 && hasTestData(td) {
		wl["test_data"] = td
	}
	out, err := filepath.Abs("results")
	if err != nil {
		return "", err
	}
	batches := m.batches
	if len(batches) == 0 {
		batches = defaultBatches(model, m.shapes)
	}
	cfg := map[string]any{
		"name":            strings.TrimSuffix(filepath.Base(model), filepath.Ext(model)),
		"description":     "ortbench run --model " + m.model + ": the default strategies on generated inputs",
		"workload":        wl,
		"batch_sizes":     batches,
		"warmup_batches":  2,
		"repetitions":     5,
		"target_interval": 0.05,
		"max_duration":    "2m",
		"min_duration":    "500ms",
		"output":          map[string]any{"dir": out},
		"strategies":      defaultStrategies(sysinfo.LiveCores().Usable),
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "model.yaml")
	return path, os.WriteFile(path, b, 0o644)
}

// defaultStrategies are the strategies `run --model` compares on a machine
// of cores usable cores.
func defaultStrategies(cores int) []map[string]any {
	s := []map[string]any{
		{"strategy": "sequential"},
		{"strategy": "goroutines", "workers": []int{0}},
		{"strategy": "worker-pool", "workers": []int{0}},
	}
	var threads []int
	for t := 2; t < cores; t *= 2 {
		threads = append(threads, t)
	}
	if cores >= 2 {
		threads = append(threads, cores)
		s = append(s, map[string]any{"strategy": "intra-op", "threads": threads},
			map[string]any{"strategy": "hybrid", "workers": []int{2}, "threads": []int{max(1, cores/2)}})
	}
	return s
}

// defaultBatches is 1 and 8, or the batch the model fixes: read from the
// file in pure Go (the first input's first dimension), or 1 when --shape
// gives an input no batch axis.
func defaultBatches(model string, shapes []string) []int {
	for _, s := range shapes {
		if _, dims, _ := strings.Cut(s, "="); !strings.HasPrefix(strings.TrimSpace(dims), "batch") {
			return []int{1}
		}
	}
	g, err := graph.Read(model)
	if err != nil || len(g.Inputs) == 0 {
		return []int{1, 8} // the run reports what is wrong with the file
	}
	in := g.Inputs[0].Shape
	switch {
	case len(in) <= 1 && !slices.ContainsFunc(in, func(d int64) bool { return d < 0 }):
		return []int{1}
	case len(in) >= 2 && in[0] > 0:
		return []int{int(in[0])}
	}
	return []int{1, 8}
}

// hasTestData reports whether dir holds a test_data_set_N directory.
func hasTestData(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	for _, p := range m {
		if _, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "test_data_set_")); err == nil {
			return true
		}
	}
	return false
}

// modelErr is an error about the experiment `run --model` wrote, whose
// "FILE:LINE: " positions name a temporary file the user never wrote:
// they read as "--model M: " instead. Unwrap keeps the exit code.
type modelErr struct {
	err error
	pos *regexp.Regexp
	to  string
}

// Error names --model once a line: a message may nest positions.
func (e *modelErr) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i, l := range lines {
		n := 0
		lines[i] = e.pos.ReplaceAllStringFunc(l, func(string) string {
			if n++; n > 1 {
				return ""
			}
			return e.to
		})
	}
	return strings.Join(lines, "\n")
}
func (e *modelErr) Unwrap() error { return e.err }

// modelFlagErr wraps err as a modelErr when --model made the experiment
// at path; otherwise err, whose positions are the user's own file's.
func modelFlagErr(model, path string, err error) error {
	if model == "" || err == nil {
		return err
	}
	pos := regexp.MustCompile(regexp.QuoteMeta(path) + `(:\d+)?: `)
	return &modelErr{err: err, pos: pos, to: "--model " + model + ": "}
}
