package onnx

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

var models = filepath.Join("..", "training", "models")

func initT(tb testing.TB) {
	tb.Helper()
	if _, _, err := Init(""); err != nil {
		tb.Fatalf("%v (run `make ort`)", err)
	}
}

func TestFindLibraryMissing(t *testing.T) {
	t.Setenv(LibraryEnv, "/nonexistent/libonnxruntime.so")
	_, err := FindLibrary("")
	if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "make ort") || !strings.Contains(err.Error(), LibraryEnv) {
		t.Fatalf("error %v does not say how to get the library", err)
	}
	if _, err := FindLibrary(t.TempDir()); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory was accepted: %v", err)
	}
}

func TestInitVersion(t *testing.T) {
	initT(t)
	if v := Version(); !AtLeast(v, MinVersion) {
		t.Fatalf("version %q", v)
	}
	if LibraryPath() == "" {
		t.Fatal("no library path recorded")
	}
}

func TestInspectAndCheck(t *testing.T) {
	initT(t)
	m, err := Inspect(filepath.Join(models, "logreg_breast_cancer.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].DType != "float32" || m.Inputs[0].Shape[1] != 30 {
		t.Fatalf("inputs %+v", m.Inputs)
	}
	if err := m.Check(30); err != nil {
		t.Fatal(err)
	}
	err = m.Check(64)
	if err == nil || !strings.Contains(err.Error(), "takes 30 features per row but the dataset gives 64") {
		t.Fatalf("width mismatch: %v", err)
	}
	if _, err := Inspect("nope.onnx"); err == nil || !strings.Contains(err.Error(), "nope.onnx") {
		t.Fatalf("missing model: %v", err)
	}
}

func TestSessionOutputsAndNoAlloc(t *testing.T) {
	initT(t)
	m, err := Inspect(filepath.Join(models, "mlp_small_digits.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	s, err := NewSession(m, 64, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	outs := s.Outputs()
	if len(outs) != 2 || outs[0].Kind != Int64 || outs[0].Width != 1 || outs[1].Kind != Float32 || outs[1].Width != 10 {
		t.Fatalf("outputs %+v", outs)
	}
	w, err := s.NewWorker(4, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	in := make([]float32, 4*64)
	if err := w.Run(in); err != nil {
		t.Fatal(err)
	}
	if len(w.Int64(0)) != 4 || len(w.Float32(1)) != 40 || w.Float32(0) != nil {
		t.Fatal("output views have the wrong shape")
	}
	if err := w.Run(in[:3*64]); err != nil || len(w.Int64(0)) != 3 {
		t.Fatalf("short batch: %v", err)
	}
	if err := w.Run(in[:5]); err == nil {
		t.Fatal("a partial row was accepted")
	}
	if n := testing.AllocsPerRun(100, func() { _ = w.Run(in) }); n != 0 {
		t.Fatalf("Worker.Run allocates %v times per call", n)
	}
	if _, err := NewSession(m, 64, Options{GraphOptimization: "max"}); err == nil {
		t.Fatal("bad graph optimization accepted")
	}
}

// The harness-overhead pair: BenchmarkBareRun is the least code a Go user
// writes to run a model (onnxruntime_go directly, tensors preallocated);
// BenchmarkWorkerRun is ortbench's Worker. runner/strategy's
// BenchmarkSequentialPass adds everything the sequential strategy records.
func benchModel(b *testing.B) (*Model, []float32) {
	initT(b)
	m, err := Inspect(filepath.Join(models, "logreg_breast_cancer.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	return m, make([]float32, 30)
}

func BenchmarkBareRun(b *testing.B) {
	m, row := benchModel(b)
	so, _ := ort.NewSessionOptions()
	defer so.Destroy()
	so.SetIntraOpNumThreads(1)
	so.SetInterOpNumThreads(1)
	so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
	s, err := ort.NewDynamicAdvancedSession(m.Path, []string{"input"}, []string{"label", "probabilities"}, so)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Destroy()
	in, _ := ort.NewTensor(ort.NewShape(1, 30), row)
	label, _ := ort.NewEmptyTensor[int64](ort.NewShape(1))
	probs, _ := ort.NewEmptyTensor[float32](ort.NewShape(1, 2))
	ins, outs := []ort.Value{in}, []ort.Value{label, probs}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Run(ins, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}

func BenchmarkWorkerRun(b *testing.B) {
	m, row := benchModel(b)
	opts := DefaultOptions()
	s, err := NewSession(m, 30, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, _ := s.NewWorker(1)
	defer w.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.Run(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}
