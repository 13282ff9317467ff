package onnx

import (
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
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

// TensorInfo describes one model input or output.
type TensorInfo struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`  // "tensor", "sequence", "map", …
	DType string  `json:"dtype"` // element type, for tensors
	Shape []int64 `json:"shape"` // -1 marks a dynamic dimension
}

func (t TensorInfo) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		if d < 0 {
			dims[i] = "N"
		} else {
			dims[i] = fmt.Sprint(d)
		}
	}
	if t.Type != "tensor" {
		return fmt.Sprintf("%s: %s", t.Name, t.Type)
	}
	return fmt.Sprintf("%s: %s[%s]", t.Name, t.DType, strings.Join(dims, ", "))
}

// Model is what ortbench needs to know about a model before running it.
type Model struct {
	Path    string       `json:"path"`
	Inputs  []TensorInfo `json:"inputs"`
	Outputs []TensorInfo `json:"outputs"`
}

// Output is a model output as a worker produces it: Width elements per row.
type Output struct {
	Name  string
	Kind  Kind
	Width int
}

// Inspect reads a model's inputs and outputs. Init must have been called.
func Inspect(path string) (*Model, error) {
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("%s: reading model: %v", path, err)
	}
	m := &Model{Path: path}
	for _, i := range ins {
		m.Inputs = append(m.Inputs, tensorInfo(i))
	}
	for _, o := range outs {
		m.Outputs = append(m.Outputs, tensorInfo(o))
	}
	return m, nil
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

func dtypeName(d ort.TensorElementDataType) string {
	switch d {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeInt32:
		return "int32"
	}
	return strings.ToLower(d.String())
}

// Check validates that ortbench can drive the model with width-feature float32
// rows and verify its outputs. Outputs whose per-row width is not static are
// resolved later, by the session.
func (m *Model) Check(width int) error {
	if len(m.Inputs) != 1 {
		return fmt.Errorf("%s: model has %d inputs, ortbench feeds exactly one [batch, features] tensor", m.Path, len(m.Inputs))
	}
	in := m.Inputs[0]
	if in.Type != "tensor" || in.DType != "float32" {
		return fmt.Errorf("%s: input %q is %s, ortbench feeds float32 tensors (re-export the model with a float32 input)", m.Path, in.Name, in)
	}
	if len(in.Shape) != 2 {
		return fmt.Errorf("%s: input %q has shape %s, want [batch, features]", m.Path, in.Name, in)
	}
	if in.Shape[1] >= 0 && int(in.Shape[1]) != width {
		return fmt.Errorf("%s: input %q takes %d features per row but the dataset gives %d (check workload.dataset.features)", m.Path, in.Name, in.Shape[1], width)
	}
	for _, o := range m.Outputs {
		if o.Type != "tensor" {
			return fmt.Errorf("%s: output %q is a %s, ortbench verifies tensors only (for scikit-learn classifiers export with zipmap=False)", m.Path, o.Name, o.Type)
		}
		if o.DType != "float32" && o.DType != "int64" {
			return fmt.Errorf("%s: output %q has dtype %s, ortbench verifies float32 and int64 outputs", m.Path, o.Name, o.DType)
		}
		if len(o.Shape) == 0 {
			return fmt.Errorf("%s: output %q is a scalar, want a leading batch dimension", m.Path, o.Name)
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
