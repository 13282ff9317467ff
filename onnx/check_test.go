package onnx

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// corpus holds the hand-built models of the CLI's bad-input corpus
// (cmd/ortbench/testdata/corpus/gen.py writes them).
var corpus = filepath.Join("..", "cmd", "ortbench", "testdata", "corpus", "models")

// TestCheckRejects: every model ortbench cannot feed or verify is rejected
// by Inspect or Check with one line naming the input or output, and element
// types read as ONNX names.
func TestCheckRejects(t *testing.T) {
	initT(t)
	tests := []struct{ model, want string }{
		{"input_string.onnx", `input "input" is string[N, 4]: strings are not supported`},
		{"output_string.onnx", `output "out" is string[N, 4]: strings are not supported`},
		{"input_float16.onnx", `input "input" is float16[N, 4], ortbench feeds float32`},
		{"input_float64.onnx", `input "input" is float64[N, 4]`},
		{"input_bool.onnx", `input "input" is bool[N, 4]`},
		{"input_int64.onnx", `input "input" is int64[N, 4]`},
		{"output_int32.onnx", `output "out" is int32[N, 4], ortbench verifies float32 and int64`},
		{"output_float16.onnx", `output "out" is float16[N, 4]`},
		{"output_uint8.onnx", `output "out" is uint8[N, 4]`},
		{"output_bool.onnx", `output "out" is bool[N, 4]`},
		{"output_no_batch.onnx", `output "out" has shape float32[4]: its first dimension is fixed at 4, so it has no batch dimension`},
		{"output_scalar.onnx", `output "out" is a scalar`},
		{"output_sequence.onnx", `output "out" is a sequence`},
		{"fixed_batch.onnx", `batch dimension is fixed at 1`},
		{"rank1_input.onnx", `want [batch, features]`},
		{"rank3_input.onnx", `want [batch, features]`},
		{"two_inputs.onnx", `model has 2 inputs`},
		{"width5.onnx", `takes 5 features per row but the dataset gives 4`},
		{"names_three.onnx", `stores 3 feature names but the dataset gives 4`},
	}
	for _, tc := range tests {
		path := filepath.Join(corpus, tc.model)
		m, err := Inspect(path)
		if err == nil {
			err = m.Check(4)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", tc.model, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "onnx_tensor_element_data_type") {
			t.Errorf("%s: raw enum name in %v", tc.model, err)
		}
	}
}

func TestInspectBadFiles(t *testing.T) {
	initT(t)
	for _, tc := range []struct{ model, want string }{
		{"garbage.onnx", "reading model"},
		{"empty.onnx", "reading model"},
		{"truncated.onnx", "reading model"},
		{"unknown_op.onnx", "reading model"},
		{"names_bad_json.onnx", `metadata "ortbench.feature_names" is not a JSON array`},
		{"names_dup.onnx", `names feature "f1" twice`},
	} {
		path := filepath.Join(corpus, tc.model)
		_, err := Inspect(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", tc.model, err, tc.want)
		}
	}
}

func TestFeatureNames(t *testing.T) {
	initT(t)
	m, err := Inspect(filepath.Join(models, "logreg_breast_cancer.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.FeatureNames) != 30 || m.FeatureNames[0] != "mean radius" || m.InputWidth() != 30 {
		t.Fatalf("feature names %q, width %d", m.FeatureNames, m.InputWidth())
	}
	m, err = Inspect(filepath.Join(corpus, "ok4_nonames.onnx"))
	if err != nil || m.FeatureNames != nil || m.Check(4) != nil {
		t.Fatalf("a model without names: %v %v", err, m.FeatureNames)
	}
}

// TestRank3Output: an output [N, 2, 2] is bound with its own shape and
// verified as 4 values per row.
func TestRank3Output(t *testing.T) {
	initT(t)
	m, err := Inspect(filepath.Join(corpus, "output_rank3.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(m, 4, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if o := s.Outputs(); len(o) != 1 || o[0].Width != 4 || o[0].Kind != Float32 {
		t.Fatalf("outputs %+v", o)
	}
	w, err := s.NewWorker(3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, rows := range []int{3, 1} {
		if err := w.Run(in[:rows*4]); err != nil {
			t.Fatal(err)
		}
		if got := w.Float32(0); !slices.Equal(got, in[:rows*4]) {
			t.Fatalf("%d rows: got %v", rows, got)
		}
	}
}

// TestORTLogQuiet: a model ORT refuses leaves no ORT log line on stderr; the
// reason comes back in the error.
func TestORTLogQuiet(t *testing.T) {
	initT(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(w.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	m, _ := Inspect(filepath.Join(corpus, "ok4.onnx"))
	_, err1 := Inspect(filepath.Join(corpus, "unknown_op.onnx"))
	var err2 error
	if m != nil {
		o := DefaultOptions()
		o.GraphOptimization = "all"
		m.Path = filepath.Join(corpus, "unknown_op.onnx")
		_, err2 = NewSession(m, 4, o)
	}
	_ = syscall.Dup2(saved, 2)
	w.Close()
	out, _ := io.ReadAll(r)
	if len(out) > 0 {
		t.Errorf("ORT wrote to stderr: %q", out)
	}
	if err1 == nil || err2 == nil {
		t.Errorf("unknown op accepted: %v, %v", err1, err2)
	}
}
