package runner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/tensorproto"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/inputs"
	"github.com/ortbench/ortbench/runner/workload"
)

// loadTensors builds the workload of a model fed without a dataset: every
// input generated from its spec (workload.inputs, items, seed) or read from
// the ONNX test-data layout (workload.test_data). Errors name the config
// key to change. onnx.Init must have run.
func loadTensors(c *config.Config) (*workload.Tensors, error) {
	m, err := onnx.Inspect(c.Abs(c.Workload.Model))
	if err != nil {
		return nil, err
	}
	shapes, err := byInput(m, c.Workload.ShapeDims, "workload.shapes")
	if err != nil {
		return nil, err
	}
	feeds, err := m.Feeds(shapes)
	var unset *onnx.UnsetDim
	if errors.As(err, &unset) && c.Workload.ShapeFlag {
		return nil, errors.New(unset.Say("--shape " + unset.Input + "=" + strings.Join(unset.Example, ",")))
	}
	if err != nil {
		return nil, err
	}
	if err := checkBatchSizes(c, m, feeds); err != nil {
		return nil, err
	}
	if c.Workload.TestData != "" {
		return testDataWorkload(m, feeds, c.Abs(c.Workload.TestData))
	}
	return generatedWorkload(c, m, feeds)
}

// byInput keys a per-input config map by the model's input names. Config
// keys arrive lower-cased (viper folds them), so a name matches the input
// it equals ignoring case, when exactly one does.
func byInput[V any](m *onnx.Model, given map[string]V, key string) (map[string]V, error) {
	out := make(map[string]V, len(given))
	names := make([]string, len(m.Inputs))
	for i, in := range m.Inputs {
		names[i] = in.Name
	}
	for k, v := range given {
		match := ""
		for _, n := range names {
			if n == k {
				match = n
				break
			}
			if strings.EqualFold(n, k) {
				if match != "" {
					return nil, fmt.Errorf("%s.%s: matches inputs %q and %q (config keys ignore case)", key, k, match, n)
				}
				match = n
			}
		}
		if match == "" {
			return nil, fmt.Errorf("%s.%s: the model has no such input (inputs: %s)", key, k, strings.Join(names, ", "))
		}
		out[match] = v
	}
	return out, nil
}

// checkBatchSizes refuses batch sizes a model with a fixed batch (or no
// batch axis) cannot take: one call is always that many items.
func checkBatchSizes(c *config.Config, m *onnx.Model, feeds []onnx.Feed) error {
	n := onnx.ItemsPerCall(feeds)
	if n == 0 {
		return nil
	}
	fix := fmt.Sprintf("set batch_sizes: [%d]", n)
	if c.Workload.ShapeFlag { // run --model: the batches are its --batch flags
		fix = fmt.Sprintf("give --batch %d or no --batch", n)
	}
	for _, bs := range c.BatchSizes {
		if bs != n {
			return c.Errorf("batch_sizes", "%d: %s fixes its batch at %d item(s) a call (input %q); %s", bs, m.Path, n, feeds[0].Name, fix)
		}
	}
	return nil
}

// generatedWorkload makes items seeded records from the inputs' specs,
// refusing before it allocates when they would not fit in memory.
func generatedWorkload(c *config.Config, m *onnx.Model, feeds []onnx.Feed) (*workload.Tensors, error) {
	given, err := byInput(m, c.Workload.InputSpecs, "workload.inputs")
	if err != nil {
		return nil, err
	}
	specs := make(map[string]inputs.Spec, len(given))
	for name, s := range given {
		sp, err := inputs.ParseSpec(s)
		if err != nil {
			return nil, c.Errorf("workload.inputs."+name, "%v", err)
		}
		if sp.Kind == inputs.Column && c.Workload.Dataset.Path == "" {
			return nil, c.Errorf("workload.inputs."+name, "%q reads a dataset column: set workload.dataset.path", s)
		}
		specs[name] = sp
	}
	if err := inputs.Validate(feeds, specs); err != nil {
		return nil, c.Errorf("workload.inputs", "%v", err)
	}
	cols, rows, err := columnInputs(c, feeds, specs) // columns.go
	if err != nil {
		return nil, err
	}
	items := c.Workload.Items
	switch {
	case rows >= 0:
		items = rows // the dataset's rows (workload.rows limits them)
	case items == 0:
		items = config.DefaultItems
	}
	if rows >= 0 && onnx.ItemsPerCall(feeds) > 1 && rows%onnx.ItemsPerCall(feeds) != 0 {
		return nil, c.Errorf("workload.rows", "%d rows do not fill calls of %d items (the model fixes its batch): set workload.rows to a multiple", rows, onnx.ItemsPerCall(feeds))
	}
	if n := onnx.ItemsPerCall(feeds); n > 1 {
		items = (items + n - 1) / n * n // whole calls
	}
	need := inputs.Bytes(feeds, items)
	if avail := config.AvailableMemory(); need < 0 || (avail > 0 && uint64(need) > avail/2) {
		return nil, c.Errorf("workload.items", "%d items of %d bytes need %s, more than half the %s available: lower workload.items or the shapes", items, onnx.RecordBytes(feeds), gib(need), gib(int64(avail)))
	}
	seed := uint64(c.Workload.Seed)
	per, err := inputs.Generate(feeds, specs, items, seed)
	if err != nil {
		return nil, c.Errorf("workload.inputs", "%v", err)
	}
	for k := range per {
		if cols[k] != nil {
			per[k] = cols[k]
		}
	}
	data, err := inputs.Interleave(feeds, per, items)
	if err != nil {
		return nil, err
	}
	origin := workload.Origin{Specs: map[string]string{}, Seed: seed}
	if rows >= 0 {
		origin.Dataset = c.Abs(c.Workload.Dataset.Path)
	}
	for _, f := range feeds {
		sp, ok := specs[f.Name]
		if !ok {
			sp = inputs.Default(f.DType)
		}
		origin.Specs[f.Name] = sp.String()
	}
	return workload.NewTensors(m, feeds, data, items, origin)
}

func gib(b int64) string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

// testDataWorkload reads the test-data directory's inputs, and its outputs
// as the values the reference pass must match.
func testDataWorkload(m *onnx.Model, feeds []onnx.Feed, dir string) (*workload.Tensors, error) {
	td, err := inputs.ReadTestData(dir, feeds, m.Outputs)
	if err != nil {
		return nil, err
	}
	data, err := inputs.Interleave(feeds, td.Inputs, td.Items)
	if err != nil {
		return nil, err
	}
	w, err := workload.NewTensors(m, feeds, data, td.Items, workload.Origin{TestData: dir})
	if err != nil {
		return nil, err
	}
	exp, err := expectedOutputs(m, w.Layout(), td)
	if err != nil {
		return nil, err
	}
	w.SetExpected(exp)
	return w, nil
}

// expectedOutputs gathers the test data's output tensors into an Outputs
// store of the workload's layout; nil (nothing to match) when a set lacks
// one of the outputs.
func expectedOutputs(m *onnx.Model, layout []onnx.Output, td *inputs.TestData) (*workload.Outputs, error) {
	out := workload.NewOutputs(layout, td.Items, max(td.Items, 1))
	for k, l := range layout {
		j := -1
		for i, o := range m.Outputs {
			if o.Name == l.Name {
				j = i
			}
		}
		row := 0
		for _, set := range td.Sets {
			if j < 0 || j >= len(set.Outputs) || set.Outputs[j] == nil {
				return nil, nil
			}
			t := set.Outputs[j]
			if t.Elems() != set.Items*l.Width {
				return nil, fmt.Errorf("%s: output %q holds %d values, the model gives %d for its %d item(s)", set.Dir, l.Name, t.Elems(), set.Items*l.Width, set.Items)
			}
			if err := widen(t, out, k, row*l.Width); err != nil {
				return nil, fmt.Errorf("%s: output %q: %w", set.Dir, l.Name, err)
			}
			row += set.Items
		}
	}
	return out, nil
}

// widen copies t's values into output k of out from offset on, converted
// as the session converts outputs (onnx.WidenFloat, WidenInt); t's dtype
// must be one the model's output is stored as.
func widen(t *tensorproto.Tensor, out *workload.Outputs, k, offset int) error {
	n, kind := t.Elems(), out.Layout[k].Kind
	src := t.Data
	if !raw.Aligned(src) {
		src = append(alignedCopy(len(src)), src...) // pb bytes may sit anywhere in the file
	}
	switch {
	case kind == onnx.Float32 && (t.DType == onnx.DFloat32 || t.DType == onnx.DFloat16 || t.DType == onnx.DFloat64):
		onnx.WidenFloat(out.F32[k][offset:offset+n], src, t.DType)
	case kind == onnx.Int64 && t.DType != onnx.DFloat32 && t.DType != onnx.DFloat16 && t.DType != onnx.DFloat64:
		onnx.WidenInt(out.I64[k][offset:offset+n], src, t.DType)
	default:
		return fmt.Errorf("values of dtype %s where the model gives %s", t.DType, out.Layout[k].DType)
	}
	return nil
}

// alignedCopy is an empty slice with room for n bytes, 8-byte aligned.
func alignedCopy(n int) []byte { return raw.Bytes(make([]int64, (n+7)/8))[:0] }

// TestDataTolerance is the absolute difference allowed between the
// reference pass and a test-data directory's expected outputs.
const TestDataTolerance = 1e-3
