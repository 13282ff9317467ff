package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// checkFeeds checks how an onnx workload's inputs are fed: from a dataset
// (workload.dataset.path), from the ONNX test-data layout
// (workload.test_data), or generated (neither: workload.inputs, items,
// seed). It decodes workload.shapes and workload.inputs into ShapeDims and
// InputSpecs; whether they fit the model is checked where the model is
// read (runner.Prepare), with the same keys in the message.
func checkFeeds(c *Config, bad func(key, format string, args ...any)) {
	w := &c.Workload
	w.ShapeDims, w.InputSpecs = map[string][]string{}, map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(w.Shapes)) {
		dims, err := shapeDims(w.Shapes[name])
		if err != nil {
			bad("workload.shapes."+name, "%v", err)
			continue
		}
		w.ShapeDims[name] = dims
	}
	for _, name := range slices.Sorted(maps.Keys(w.Inputs)) {
		spec, err := specString(w.Inputs[name])
		if err != nil {
			bad("workload.inputs."+name, "%v", err)
			continue
		}
		w.InputSpecs[name] = spec
	}
	dataset := w.Dataset.Path != ""
	switch {
	case dataset && w.TestData != "":
		bad("workload.test_data", "set a dataset or a test-data directory, not both")
	case dataset && len(w.InputSpecs) > 0 && (w.Dataset.Streaming || len(w.Dataset.Features) > 0 || w.Dataset.TensorColumn != ""):
		bad("workload.inputs", "with workload.inputs a dataset feeds inputs through column:NAME specs, not features, tensor_column or streaming")
	case dataset && w.Items != 0:
		bad("workload.items", "belongs to generated inputs; a dataset's rows are limited by workload.rows")
	case !dataset && w.Dataset.Streaming:
		bad("workload.dataset.streaming", "needs workload.dataset.path")
	case w.TestData != "" && (len(w.InputSpecs) > 0 || w.Items != 0):
		bad("workload.test_data", "the test data holds the inputs: remove workload.inputs and workload.items")
	}
	if w.Items < 0 || w.Items > 1<<24 {
		bad("workload.items", "%d is out of range (1 to %d; 0 = %d)", w.Items, 1<<24, DefaultItems)
	}
	if w.Seed < 0 {
		bad("workload.seed", "must be ≥ 0, got %d", w.Seed)
	}
}

// shapeDims reads one input's dims: a list of "batch" and whole numbers.
func shapeDims(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			// "batch,128" as the CLI writes it.
			for _, p := range strings.Split(s, ",") {
				list = append(list, strings.TrimSpace(p))
			}
		} else {
			return nil, fmt.Errorf("%v is not a list of dimensions (write e.g. [batch, 128])", v)
		}
	}
	if len(list) > 8 {
		return nil, fmt.Errorf("%d dimensions; ortbench feeds inputs of rank ≤ 8", len(list))
	}
	dims := make([]string, len(list))
	for i, d := range list {
		s, err := dimString(d)
		if err != nil {
			return nil, fmt.Errorf("dimension %d: %v", i, err)
		}
		dims[i] = s
	}
	return dims, nil
}

func dimString(d any) (string, error) {
	switch v := d.(type) {
	case int:
		if v < 1 {
			return "", fmt.Errorf("%d: a dimension must be ≥ 1", v)
		}
		return strconv.Itoa(v), nil
	case float64:
		if v != math.Trunc(v) || v < 1 || v > 1<<31 {
			return "", fmt.Errorf("%v is not a whole number ≥ 1", v)
		}
		return strconv.Itoa(int(v)), nil
	case string:
		if strings.EqualFold(v, "batch") {
			return "batch", nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", fmt.Errorf("%q is neither batch nor a whole number ≥ 1", v)
		}
		return v, nil
	}
	return "", fmt.Errorf("%v is neither batch nor a whole number", d)
}

// specString reads one input's spec: a string, or a number (a constant).
func specString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case int:
		return strconv.Itoa(s), nil
	case float64:
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return "", fmt.Errorf("%v is not a finite constant", s)
		}
		return strconv.FormatFloat(s, 'g', -1, 64), nil
	case bool:
		if s {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("%v is not an input spec (write e.g. \"uniform:0,1\", \"int:0,30522\" or a constant)", v)
}
