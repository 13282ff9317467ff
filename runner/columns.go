package runner

import (
	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/inputs"
)

// columnInputs reads the inputs whose spec is `column:NAME` from the
// dataset: a numeric column for an input of one element an item, a
// fixed_size_list column (reshaped to the item's shape) for a larger one,
// each value converted to the input's dtype exactly or refused. It returns
// each input's bytes (nil for the others) and the rows read.
func columnInputs(c *config.Config, feeds []onnx.Feed, specs map[string]inputs.Spec) ([][]byte, int, error) {
	per := make([][]byte, len(feeds))
	rows := -1
	for k, f := range feeds {
		sp, ok := specs[f.Name]
		if !ok || sp.Kind != inputs.Column {
			continue
		}
		key := "workload.inputs." + f.Name
		spec := DatasetSpec(c)
		spec.Features, spec.TensorColumn, spec.ModelFeatures, spec.ModelWidth = nil, "", nil, 0
		spec.Label, spec.NoLabel = "", true
		if f.ItemElems() == 1 {
			spec.Features = []string{sp.Column}
		} else {
			spec.TensorColumn = sp.Column
		}
		t, err := datasets.LoadFeatures(spec)
		if err != nil {
			return nil, 0, c.Errorf(key, "%v", err)
		}
		if t.Width != f.ItemElems() {
			return nil, 0, c.Errorf(key, "column %q holds %d values a row, input %q takes %d an item (%s%v)", sp.Column, t.Width, f.Name, f.ItemElems(), f.DType, f.Item)
		}
		if rows >= 0 && t.Rows != rows {
			return nil, 0, c.Errorf(key, "column %q gives %d rows, another input's column %d", sp.Column, t.Rows, rows)
		}
		rows = t.Rows
		if per[k], err = inputs.Encode(t.Data, f.DType); err != nil {
			return nil, 0, c.Errorf(key, "column %q: %v", sp.Column, err)
		}
	}
	return per, rows, nil
}
