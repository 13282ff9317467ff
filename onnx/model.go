package onnx

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/ortbench/ortbench/onnx/graph"
)

// Kind is the element type of an output ortbench can verify.
type Kind int

const (
	Float32 Kind = iota + 1
	Int64
)

func (k Kind) String() string {
	switch k {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return "unknown"
}

// TensorInfo describes one model input or output; the graph reader
// (package onnx/graph) and Inspect fill the same type.
type TensorInfo = graph.TensorInfo

// Model is what ortbench needs to know about a model before running it.
type Model struct {
	Path    string       `json:"path"`
	Inputs  []TensorInfo `json:"inputs"`
	Outputs []TensorInfo `json:"outputs"`
	// FeatureNames are the names of the input's features in order, as the
	// training notebook stores them in the model's metadata_props under
	// FeatureNamesKey; nil when the model stores none. The dataset's
	// columns are matched to them by name (datasets.Spec.ModelFeatures).
	FeatureNames []string `json:"feature_names,omitempty"`
}

// FeatureNamesKey is the metadata_props key holding a model's feature names,
// a JSON array of strings in input order (training/train.ipynb writes it).
const FeatureNamesKey = "ortbench.feature_names"

// InputWidth is the number of features per row the model's input takes when
// its shape says so, else 0.
func (m *Model) InputWidth() int {
	if len(m.Inputs) == 1 && len(m.Inputs[0].Shape) == 2 && m.Inputs[0].Shape[1] > 0 {
		return int(m.Inputs[0].Shape[1])
	}
	return 0
}

// Output is a model output as a worker produces it: Width elements per item
// (per row of a tabular model; the whole output without a batch axis). Kind
// is the storage it is read and verified in (Worker.Float32 or Int64); DType
// is the model's own element type, converted to Kind's on read.
type Output struct {
	Name  string
	Kind  Kind
	DType DType `json:",omitempty"`
	Width int
}

// Inspect reads a model's inputs, outputs and stored feature names. Init
// must have been called.
func Inspect(path string) (*Model, error) {
	so, err := inspectOptions()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	defer so.Destroy()
	ins, outs, err := ort.GetInputOutputInfoWithOptions(path, so)
	if err != nil {
		return nil, fmt.Errorf("%s: reading model: %s", path, oneLine(err))
	}
	m := &Model{Path: path}
	for _, i := range ins {
		m.Inputs = append(m.Inputs, tensorInfo(i))
	}
	for _, o := range outs {
		m.Outputs = append(m.Outputs, tensorInfo(o))
	}
	if m.FeatureNames, err = featureNames(path, so); err != nil {
		return nil, err
	}
	addDimNames(m)
	return m, nil
}

// addDimNames fills DimNames from the file itself: onnxruntime_go reports a
// symbolic dimension as -1 without its name. A file the graph reader cannot
// parse keeps nil names; ORT has read it, which is what running needs.
func addDimNames(m *Model) {
	dynamic := func(ts []TensorInfo) bool {
		return slices.ContainsFunc(ts, func(t TensorInfo) bool { return slices.Contains(t.Shape, -1) })
	}
	if !dynamic(m.Inputs) && !dynamic(m.Outputs) {
		return
	}
	g, err := graph.Read(m.Path)
	if err != nil {
		return
	}
	names(m.Inputs, g.Inputs)
	names(m.Outputs, g.Outputs)
}

// names copies each declaration's DimNames to the tensor of the same name.
func names(ts, decls []TensorInfo) {
	for i := range ts {
		for _, d := range decls {
			if d.Name == ts[i].Name && len(d.DimNames) == len(ts[i].Shape) {
				ts[i].DimNames = d.DimNames
			}
		}
	}
}

// featureNames reads FeatureNamesKey from the model's metadata.
func featureNames(path string, so *ort.SessionOptions) ([]string, error) {
	md, err := ort.GetModelMetadataWithOptions(path, so)
	if err != nil {
		return nil, fmt.Errorf("%s: reading model metadata: %s", path, oneLine(err))
	}
	defer md.Destroy()
	v, ok, err := md.LookupCustomMetadataMap(FeatureNamesKey)
	if err != nil {
		return nil, fmt.Errorf("%s: reading model metadata: %s", path, oneLine(err))
	}
	if !ok {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal([]byte(v), &names); err != nil || len(names) == 0 {
		return nil, fmt.Errorf("%s: metadata %q is not a JSON array of feature names (%.60q)", path, FeatureNamesKey, v)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("%s: metadata %q names feature %q twice or empty", path, FeatureNamesKey, n)
		}
		seen[n] = true
	}
	return names, nil
}

// oneLine keeps the first line of an ORT error.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func tensorInfo(i ort.InputOutputInfo) TensorInfo {
	t := TensorInfo{Name: i.Name, Type: strings.ToLower(i.OrtValueType.String())}
	switch i.OrtValueType {
	case ort.ONNXTypeTensor:
		t.Type = "tensor"
		t.DType = dtypeName(i.DataType)
		t.Shape = append([]int64(nil), i.Dimensions...)
	case ort.ONNXTypeSequence:
		t.Type = "sequence"
	case ort.ONNXTypeMap:
		t.Type = "map"
	}
	return t
}

// dtypeNames are ONNX's element type names (float and double as float32 and
// float64, as Go and numpy say).
var dtypeNames = map[ort.TensorElementDataType]string{
	ort.TensorElementDataTypeFloat:          "float32",
	ort.TensorElementDataTypeDouble:         "float64",
	ort.TensorElementDataTypeFloat16:        "float16",
	ort.TensorElementDataTypeBFloat16:       "bfloat16",
	ort.TensorElementDataTypeInt8:           "int8",
	ort.TensorElementDataTypeInt16:          "int16",
	ort.TensorElementDataTypeInt32:          "int32",
	ort.TensorElementDataTypeInt64:          "int64",
	ort.TensorElementDataTypeUint8:          "uint8",
	ort.TensorElementDataTypeUint16:         "uint16",
	ort.TensorElementDataTypeUint32:         "uint32",
	ort.TensorElementDataTypeUint64:         "uint64",
	ort.TensorElementDataTypeString:         "string",
	ort.TensorElementDataTypeBool:           "bool",
	ort.TensorElementDataTypeComplex64:      "complex64",
	ort.TensorElementDataTypeComplex128:     "complex128",
	ort.TensorElementDataTypeFloat8E4M3FN:   "float8e4m3fn",
	ort.TensorElementDataTypeFloat8E4M3FNUZ: "float8e4m3fnuz",
	ort.TensorElementDataTypeFloat8E5M2:     "float8e5m2",
	ort.TensorElementDataTypeFloat8E5M2FNUZ: "float8e5m2fnuz",
	ort.TensorElementDataTypeUint4:          "uint4",
	ort.TensorElementDataTypeInt4:           "int4",
	ort.TensorElementDataTypeUndefined:      "undefined",
}

func dtypeName(d ort.TensorElementDataType) string {
	if n, ok := dtypeNames[d]; ok {
		return n
	}
	return fmt.Sprintf("element type %d", int(d))
}

// Check validates that ortbench can drive the model as a tabular one, with
// width-feature float32 rows, and verify its outputs; the error is one line
// naming the input or output. Outputs whose per-row shape is not static are
// resolved later, by the session. Any other model goes through Feeds and
// NewSessionFeeds instead.
func (m *Model) Check(width int) error {
	if len(m.Inputs) != 1 {
		return fmt.Errorf("%s: model has %d inputs, ortbench feeds exactly one [batch, features] tensor", m.Path, len(m.Inputs))
	}
	in := m.Inputs[0]
	switch {
	case in.Type != "tensor":
		return fmt.Errorf("%s: input %q is a %s, ortbench feeds one float32 [batch, features] tensor", m.Path, in.Name, in.Type)
	case in.DType == "string":
		return fmt.Errorf("%s: input %q is %s: strings are not supported, ortbench feeds float32 tensors", m.Path, in.Name, in.TypeString())
	case in.DType != "float32":
		return fmt.Errorf("%s: input %q is %s, ortbench feeds float32 tensors (re-export the model with a float32 input)", m.Path, in.Name, in.TypeString())
	case len(in.Shape) != 2:
		return fmt.Errorf("%s: input %q has shape %s, want [batch, features]", m.Path, in.Name, in.TypeString())
	case in.Shape[0] >= 0:
		return fmt.Errorf("%s: input %q has shape %s: its batch dimension is fixed at %d, ortbench needs a dynamic one (export with shape [None, %d])", m.Path, in.Name, in.TypeString(), in.Shape[0], width)
	}
	if in.Shape[1] >= 0 && int(in.Shape[1]) != width {
		return fmt.Errorf("%s: input %q takes %d features per row but the dataset gives %d (check workload.dataset.features)", m.Path, in.Name, in.Shape[1], width)
	}
	if len(m.FeatureNames) > 0 && len(m.FeatureNames) != width {
		return fmt.Errorf("%s: the model stores %d feature names but the dataset gives %d features", m.Path, len(m.FeatureNames), width)
	}
	if len(m.Outputs) == 0 {
		return fmt.Errorf("%s: model has no outputs to verify", m.Path)
	}
	for _, o := range m.Outputs {
		switch {
		case o.Type != "tensor":
			return fmt.Errorf("%s: output %q is a %s, ortbench verifies tensors only (for scikit-learn classifiers export with zipmap=False)", m.Path, o.Name, o.Type)
		case o.DType == "string":
			return fmt.Errorf("%s: output %q is %s: strings are not supported, ortbench verifies float32 and int64 outputs (for scikit-learn classifiers with string labels, train on integer labels)", m.Path, o.Name, o.TypeString())
		case o.DType != "float32" && o.DType != "int64":
			return fmt.Errorf("%s: output %q is %s, ortbench verifies float32 and int64 outputs", m.Path, o.Name, o.TypeString())
		case len(o.Shape) == 0:
			return fmt.Errorf("%s: output %q is a scalar, want a leading batch dimension", m.Path, o.Name)
		case o.Shape[0] >= 0:
			return fmt.Errorf("%s: output %q has shape %s: its first dimension is fixed at %d, so it has no batch dimension (ortbench needs one output row per input row)", m.Path, o.Name, o.TypeString(), o.Shape[0])
		case len(o.Shape) > MaxRank:
			return fmt.Errorf("%s: output %q has shape %s: rank %d, ortbench verifies outputs up to rank %d", m.Path, o.Name, o.TypeString(), len(o.Shape), MaxRank)
		}
		for _, d := range o.Shape[1:] {
			if d == 0 {
				return fmt.Errorf("%s: output %q has shape %s: a zero dimension leaves nothing to verify", m.Path, o.Name, o.TypeString())
			}
		}
	}
	return nil
}

// BatchFixed reports the input's batch dimension when the model fixes it (0 if dynamic).
func (m *Model) BatchFixed() int {
	if len(m.Inputs) == 1 && len(m.Inputs[0].Shape) == 2 && m.Inputs[0].Shape[0] > 0 {
		return int(m.Inputs[0].Shape[0])
	}
	return 0
}
