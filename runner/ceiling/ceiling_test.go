package ceiling

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner/results"
)

func initORT(t *testing.T) {
	t.Helper()
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (make test fetches it: run `make ort`)", err)
	}
}

// The generated model reads back through the pure-Go graph reader with the
// declared shapes and 2·K·N FLOPs per row.
func TestMatMulModelGraph(t *testing.T) {
	g, err := graph.Parse(MatMulModel(1024, 512, Weights(1024, 512)))
	if err != nil {
		t.Fatal(err)
	}
	if g.Flops != 2*1024*512 {
		t.Errorf("flops per row = %d, want %d", g.Flops, 2*1024*512)
	}
	if g.OpCounts["MatMul"] != 1 || g.Nodes != 1 {
		t.Errorf("ops = %v, nodes %d", g.OpCounts, g.Nodes)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Shape[0] >= 0 || g.Inputs[0].Shape[1] != 1024 {
		t.Errorf("input = %+v", g.Inputs)
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Shape[1] != 512 {
		t.Errorf("output = %+v", g.Outputs)
	}
	if len(g.Initializers) != 1 || g.Initializers[0].DType != "float32" {
		t.Errorf("initializers = %+v", g.Initializers)
	}
}

// openWorker opens a session on the model at path (width inputs) and a
// worker for rows rows, both closed when the test ends.
func openWorker(t *testing.T, path string, width, rows int) *onnx.Worker {
	t.Helper()
	m, err := onnx.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := onnx.NewSession(m, width, onnx.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := s.NewWorker(rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// ORT's output of the ceiling model equals X·W computed directly.
func TestMatMulModelOutput(t *testing.T) {
	initORT(t)
	const k, n, rows = 37, 19, 5
	path, err := WriteModel(t.TempDir(), k, n)
	if err != nil {
		t.Fatal(err)
	}
	w := openWorker(t, path, k, rows)
	x := make([]float32, rows*k)
	fill(x, 7)
	if err := w.Run(x); err != nil {
		t.Fatal(err)
	}
	got := w.Float32(0)
	if len(got) != rows*n {
		t.Fatalf("output has %d values, want %d", len(got), rows*n)
	}
	weights := Weights(k, n)
	for r := range rows {
		for j := range n {
			var want float64
			for i := range k {
				want += float64(x[r*k+i]) * float64(weights[i*n+j])
			}
			if d := math.Abs(float64(got[r*n+j]) - want); d > 1e-4 {
				t.Fatalf("Y[%d,%d] = %g, want %g (diff %g)", r, j, got[r*n+j], want, d)
			}
		}
	}
}

// ORT's output of the bandwidth model equals X + B computed directly, row
// by row (B broadcast), and the graph reader sees one Add and no FLOPs to
// count (element-wise ops are not counted).
func TestAddModelOutput(t *testing.T) {
	initORT(t)
	const n, rows = 4099, 3
	g, err := graph.Parse(AddModel(n, Addend(n)))
	if err != nil {
		t.Fatal(err)
	}
	if g.OpCounts["Add"] != 1 || g.Nodes != 1 || g.Flops != 0 || len(g.Initializers) != 1 || g.Initializers[0].Shape[0] != n {
		t.Errorf("graph = %+v", g)
	}
	path, err := WriteAddModel(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	w := openWorker(t, path, n, rows)
	x := make([]float32, rows*n)
	fill(x, 9)
	if err := w.Run(x); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		got := w.Float32(0)
		if len(got) != rows*n {
			t.Fatalf("%s: output has %d values, want %d", what, len(got), rows*n)
		}
		b := Addend(n)
		for r := range rows {
			for j := range n {
				if want := x[r*n+j] + b[j]; got[r*n+j] != want {
					t.Fatalf("%s: Y[%d,%d] = %g, want %g", what, r, j, got[r*n+j], want)
				}
			}
		}
	}
	check("run")
	// Rerun computes on the input already in place: same output.
	clear(w.Float32(0))
	if err := w.Rerun(); err != nil {
		t.Fatal(err)
	}
	check("rerun")
}

func TestMeasure(t *testing.T) {
	initORT(t)
	s := Defaults(2, onnx.DefaultOptions())
	s.Batch, s.K, s.N, s.BandwidthElems, s.Duration, s.Trials = 16, 128, 128, 1<<16, 40*time.Millisecond, 2
	var seen []int
	c, err := Measure(context.Background(), s, func(p results.CeilingPoint) { seen = append(seen, p.Threads) })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Points) != 2 || len(seen) != 2 || c.Points[1].Threads != 2 {
		t.Fatalf("points = %+v", c.Points)
	}
	for _, p := range c.Points {
		if p.GFLOPS <= 0 || p.MedianGFLOPS > p.GFLOPS || p.Trials != 2 || p.IntraOpGFLOPS <= 0 || p.GFLOPS < p.IntraOpGFLOPS || p.GFLOPS < p.SessionsGFLOPS {
			t.Errorf("point %+v", p)
		}
		if p.BandwidthGBPS <= 0 || p.MedianBandwidthGBPS > p.BandwidthGBPS || p.IntraOpBandwidthGBPS <= 0 ||
			p.BandwidthGBPS < p.IntraOpBandwidthGBPS || p.BandwidthGBPS < p.SessionsBandwidthGBPS || p.BandwidthWay == "" {
			t.Errorf("bandwidth at point %+v", p)
		}
	}
	if c.Points[0].SessionsGFLOPS != 0 || c.Points[1].SessionsGFLOPS <= 0 || c.Points[0].SessionsBandwidthGBPS != 0 || c.Points[1].SessionsBandwidthGBPS <= 0 {
		t.Errorf("sessions measured at %+v", c.Points)
	}
	if c.BandwidthBytesPerRun != 12<<16 || c.BandwidthElems != 1<<16 || !strings.HasPrefix(c.BandwidthModel, "add [1,65536]") {
		t.Errorf("bandwidth model = %q, %d elements, %d bytes a run", c.BandwidthModel, c.BandwidthElems, c.BandwidthBytesPerRun)
	}
	if c.FlopsPerRun != 2*16*128*128 || c.OnnxruntimeVersion == "" || !strings.Contains(c.Options, "spinning=false") {
		t.Errorf("ceiling = %+v", c)
	}
	if p, _ := c.At(8); p.Threads != 2 {
		t.Errorf("At(8) = %+v, want the 2-thread point", p)
	}
	if p, _ := c.At(1); p.Threads != 1 {
		t.Errorf("At(1) = %+v, want the 1-thread point", p)
	}

	path := filepath.Join(t.TempDir(), "ortbench", "ceiling-x.json")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "run `ortbench ceiling` first") {
		t.Errorf("Load of a missing cache: %v", err)
	}
	if err := Save(c, path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cached || back.Cache != path || len(back.Points) != 2 || back.Points[1].GFLOPS != c.Points[1].GFLOPS || back.Points[1].BandwidthGBPS != c.Points[1].BandwidthGBPS {
		t.Errorf("cached = %+v", back)
	}
}

func TestSettingsRejected(t *testing.T) {
	s := Defaults(1, onnx.DefaultOptions())
	s.K = 0
	if _, err := Measure(context.Background(), s, nil); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("K=0: %v", err)
	}
}

// Bursts run the MatMul model on each opened thread count, either way, and
// refuse a thread count they did not open or cannot.
func TestBursts(t *testing.T) {
	initORT(t)
	s := Settings{Batch: 16, K: 64, N: 64, BandwidthElems: 1 << 10, MaxThreads: 2, Duration: time.Second, Trials: 1, Options: onnx.DefaultOptions()}
	if _, err := NewBursts(s, []int{0}, nil); err == nil || !strings.Contains(err.Error(), "threads must be > 0") {
		t.Errorf("0 threads: %v", err)
	}
	b, err := NewBursts(s, []int{1, 2}, map[int]string{2: "sessions"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := len(b.workers[2]); got != 2 {
		t.Errorf("2 threads the sessions way: %d sessions, want 2", got)
	}
	for _, threads := range []int{1, 2} {
		g, secs, err := b.Burst(context.Background(), threads, 10*time.Millisecond)
		if err != nil || g <= 0 || secs < 0.01 {
			t.Errorf("%d threads: %v GFLOP/s over %vs, %v", threads, g, secs, err)
		}
	}
	if _, _, err := b.Burst(context.Background(), 3, time.Millisecond); err == nil || !strings.Contains(err.Error(), "no burst opened for 3 threads") {
		t.Errorf("3 threads: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := b.Burst(ctx, 1, time.Millisecond); err == nil {
		t.Error("a cancelled burst ran")
	}
}
