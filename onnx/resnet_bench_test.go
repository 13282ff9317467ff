package onnx

import (
	"os"
	"slices"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// resnet is the zoo's ResNet-50 (make zoo), input [1, 3, 224, 224].
const resnet = "../models/light_resnet50/light_resnet50.onnx"

func resnetOrSkip(b *testing.B) *Model {
	b.Helper()
	if _, err := os.Stat(resnet); err != nil {
		b.Skip("no ResNet-50: run make zoo")
	}
	initT(b)
	m, err := Inspect(resnet)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkResNetBare is the floor ortbench's sequential cell is held to
// (docs/BENCHMARKS.md): onnxruntime_go's own Run loop on ResNet-50 at batch
// 1, one intra-op thread, the same session options, tensors made once.
func BenchmarkResNetBare(b *testing.B) {
	run := bareResNet(b, resnetOrSkip(b))
	b.ResetTimer()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
}

// bareResNet is one onnxruntime_go session of m with ortbench's default
// options (one intra-op thread, no spinning) and tensors made once; run
// makes one call. Released when b ends.
func bareResNet(b *testing.B, m *Model) (run func() error) {
	b.Helper()
	so, _ := ort.NewSessionOptions()
	defer so.Destroy()
	so.SetIntraOpNumThreads(1)
	so.SetInterOpNumThreads(1)
	so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
	s, err := ort.NewDynamicAdvancedSession(m.Path, []string{m.Inputs[0].Name}, []string{m.Outputs[0].Name}, so)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := ort.NewTensor(ort.NewShape(1, 3, 224, 224), make([]float32, 3*224*224))
	out, _ := ort.NewEmptyTensor[float32](ort.NewShape(1, 1000))
	b.Cleanup(func() { s.Destroy(); in.Destroy(); out.Destroy() })
	ins, outs := []ort.Value{in}, []ort.Value{out}
	return func() error { return s.Run(ins, outs) }
}

// BenchmarkResNetWorker is what ortbench's executors do per call: copy the
// item record into the bound input, run, read the output.
func BenchmarkResNetWorker(b *testing.B) {
	m := resnetOrSkip(b)
	feeds, err := m.Feeds(nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSessionFeeds(m, feeds, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, _ := s.NewWorker(1)
	defer w.Close()
	rec := make([]byte, RecordBytes(feeds))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.RunRecords(rec); err != nil {
			b.Fatal(err)
		}
		_ = w.Float32(0)
	}
}

// BenchmarkResNetPaired alternates one bare call and one worker call per
// iteration and reports the median of each and their ratio: on a shared
// machine drift hits both alike, so the ratio is the number to read.
func BenchmarkResNetPaired(b *testing.B) {
	m := resnetOrSkip(b)
	bare := bareResNet(b, m)
	feeds, _ := m.Feeds(nil)
	s, err := NewSessionFeeds(m, feeds, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, _ := s.NewWorker(1)
	defer w.Close()
	rec := make([]byte, RecordBytes(feeds))
	var tb, tw []float64
	for b.Loop() {
		t0 := time.Now()
		if err := bare(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := w.RunRecords(rec); err != nil {
			b.Fatal(err)
		}
		_ = w.Float32(0)
		tb, tw = append(tb, float64(t1.Sub(t0))), append(tw, float64(time.Since(t1)))
	}
	slices.Sort(tb)
	slices.Sort(tw)
	mb, mw := tb[len(tb)/2], tw[len(tw)/2]
	b.ReportMetric(mb, "bare-ns/call")
	b.ReportMetric(mw, "ortbench-ns/call")
	b.ReportMetric(mw/mb, "ratio")
}
