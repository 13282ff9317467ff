package onnx

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testModels are written by testdata/make_models.py.
var testModels = filepath.Join("testdata", "models")

func loadT(tb testing.TB, name string) *Model {
	tb.Helper()
	initT(tb)
	m, err := Inspect(filepath.Join(testModels, name+".onnx"))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// sessionT opens a session fed as the model declares (shapes may set dims).
func sessionT(tb testing.TB, name string, shapes map[string][]string) (*Session, *Worker) {
	tb.Helper()
	m := loadT(tb, name)
	feeds, err := m.Feeds(shapes)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSessionFeeds(m, feeds, DefaultOptions())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	w, err := s.NewWorker()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return s, w
}

// le encodes values as their little-endian bytes, as item records hold them.
func le(vals any) []byte {
	b, err := binary.Append(nil, binary.LittleEndian, vals)
	if err != nil {
		panic(err)
	}
	return b
}

// TestEveryDType: one model per dtype, y = x + x (bool: not x), fed two
// items of three values; outputs read back in their Kind, converted.
func TestEveryDType(t *testing.T) {
	tests := []struct {
		dtype string
		in    any
		f32   []float32
		i64   []int64
	}{
		{"float32", []float32{1.5, -2, 0, 3.25, 1e-3, 7}, []float32{3, -4, 0, 6.5, 2e-3, 14}, nil},
		// 1.5, -0.25, 1000, 0, 65504/2, a subnormal (2⁻²⁴)
		{"float16", []uint16{0x3e00, 0xb400, 0x63d0, 0x0000, 0x77ff, 0x0001}, []float32{3, -0.5, 2000, 0, 65504, 1.1920928955078125e-07}, nil},
		{"float64", []float64{0.5, -1, 2.25, 1e10, 0, -3}, []float32{1, -2, 4.5, 2e10, 0, -6}, nil},
		{"int64", []int64{1, -2, 3, 1 << 40, 0, -7}, nil, []int64{2, -4, 6, 1 << 41, 0, -14}},
		{"int32", []int32{1, -2, 3, 1 << 29, 0, -7}, nil, []int64{2, -4, 6, 1 << 30, 0, -14}},
		{"int8", []int8{1, -2, 100, 0, 63, -64}, nil, []int64{2, -4, -56, 0, 126, -128}}, // 200 wraps to -56
		{"uint8", []uint8{1, 2, 200, 0, 127, 255}, nil, []int64{2, 4, 144, 0, 254, 254}},
		{"bool", []bool{true, false, false, true, true, false}, nil, []int64{0, 1, 1, 0, 0, 1}},
	}
	for _, tc := range tests {
		s, w := sessionT(t, "dtype_"+tc.dtype, nil)
		f := s.Feeds()
		if len(f) != 1 || f[0].DType.String() != tc.dtype || !slices.Equal(f[0].Item, []int64{3}) || f[0].Batch != 0 {
			t.Fatalf("%s: feeds %+v", tc.dtype, f)
		}
		o := s.Outputs()[0]
		if o.DType.String() != tc.dtype || o.Width != 3 || (o.Kind == Float32) != (tc.f32 != nil) {
			t.Fatalf("%s: output %+v", tc.dtype, o)
		}
		if err := w.RunRecords(le(tc.in)); err != nil {
			t.Fatalf("%s: %v", tc.dtype, err)
		}
		if tc.f32 != nil && (!slices.Equal(w.Float32(0), tc.f32) || w.Int64(0) != nil) {
			t.Errorf("%s: got %v, want %v", tc.dtype, w.Float32(0), tc.f32)
		}
		if tc.i64 != nil && (!slices.Equal(w.Int64(0), tc.i64) || w.Float32(0) != nil) {
			t.Errorf("%s: got %v, want %v", tc.dtype, w.Int64(0), tc.i64)
		}
		// A second run on other items: converted outputs follow it.
		rec := le(tc.in)
		if err := w.RunRecords(rec[len(rec)/2:]); err != nil {
			t.Fatal(err)
		}
		if tc.f32 != nil && !slices.Equal(w.Float32(0), tc.f32[3:]) || tc.i64 != nil && !slices.Equal(w.Int64(0), tc.i64[3:]) {
			t.Errorf("%s: second run: %v %v", tc.dtype, w.Float32(0), w.Int64(0))
		}
	}
}

// TestRanks: x [batch, 2, …, 2] of rank 1 to 8, y = x + x; rank 9 is refused.
func TestRanks(t *testing.T) {
	for r := 1; r <= MaxRank; r++ {
		s, w := sessionT(t, "rank"+string(rune('0'+r)), nil)
		per := 1 << (r - 1)
		if f := s.Feeds()[0]; len(f.Item) != r-1 || f.ItemElems() != per || s.Outputs()[0].Width != per {
			t.Fatalf("rank %d: feed %+v outputs %+v", r, f, s.Outputs())
		}
		in := make([]float32, 3*per)
		for i := range in {
			in[i] = float32(i) * 0.5
		}
		if err := w.RunRecords(le(in)); err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
		for i, v := range w.Float32(0) {
			if v != float32(i) {
				t.Fatalf("rank %d: y[%d] = %v, want %d", r, i, v, i)
			}
		}
	}
	_, err := loadT(t, "rank9").Feeds(nil)
	if err == nil || !strings.Contains(err.Error(), "rank 9, ortbench feeds tensors up to rank 8") {
		t.Fatalf("rank 9: %v", err)
	}
}

// multiRecords builds item records for multi.onnx: a float32[3,4],
// b int64[5], c uint8[2,2], d bool[1] per item.
func multiRecords(items int) []byte {
	var rec []byte
	for j := range items {
		a := make([]float32, 12)
		for i := range a {
			a[i] = float32(j*12+i)*0.25 - 4
		}
		b := []int64{int64(j), -int64(j), 1 << 40, -5, 7}
		c := []uint8{uint8(j), 200, 127, 255}
		d := []bool{j%2 == 0}
		rec = append(rec, le(a)...)
		rec = append(rec, le(b)...)
		rec = append(rec, c...)
		rec = append(rec, le(d)...)
	}
	return rec
}

// TestFourInputs: four inputs of four dtypes from one buffer of item
// records, seven outputs of seven dtypes, each checked against Go.
func TestFourInputs(t *testing.T) {
	s, w := sessionT(t, "multi", nil)
	if s.RecordBytes() != 48+40+4+1 || RecordBytes(s.Feeds()) != s.RecordBytes() {
		t.Fatalf("record bytes %d", s.RecordBytes())
	}
	kinds := []struct {
		name  string
		kind  Kind
		dtype DType
		width int
	}{{"fa", Float32, DFloat32, 12}, {"ib", Int64, DInt64, 5}, {"wc", Int64, DInt32, 4}, {"sc", Int64, DInt8, 4},
		{"nd", Int64, DBool, 1}, {"ha", Float32, DFloat16, 12}, {"db", Float32, DFloat64, 5}}
	for i, k := range kinds {
		if o := s.Outputs()[i]; o.Name != k.name || o.Kind != k.kind || o.DType != k.dtype || o.Width != k.width {
			t.Fatalf("output %d: %+v, want %+v", i, o, k)
		}
	}
	for _, items := range []int{3, 1, 3} {
		if err := w.RunRecords(multiRecords(items)); err != nil {
			t.Fatal(err)
		}
		var fa, ha, db []float32
		var ib, wc, sc, nd []int64
		for j := range items {
			for i := range 12 {
				a := float32(j*12+i)*0.25 - 4
				fa, ha = append(fa, 2*a), append(ha, a)
			}
			b := []int64{int64(j), -int64(j), 1 << 40, -5, 7}
			for _, v := range b {
				ib, db = append(ib, v+1), append(db, float32(v))
			}
			wc = append(wc, int64(j), 200, 127, 255)
			sc = append(sc, int64(j), -56, 127, -1)
			nd = append(nd, int64(j%2))
		}
		for k, want := range [][]float32{0: fa, 5: ha, 6: db} {
			if want != nil && !slices.Equal(w.Float32(k), want) {
				t.Errorf("%d items, output %s: %v, want %v", items, kinds[k].name, w.Float32(k), want)
			}
		}
		for k, want := range [][]int64{1: ib, 2: wc, 3: sc, 4: nd} {
			if want != nil && !slices.Equal(w.Int64(k), want) {
				t.Errorf("%d items, output %s: %v, want %v", items, kinds[k].name, w.Int64(k), want)
			}
		}
	}
	if err := w.RunRecords(multiRecords(2)[:150]); err == nil || !strings.Contains(err.Error(), "not a whole number of 93-byte item records") {
		t.Fatalf("a partial record: %v", err)
	}
}

// TestRunNoAlloc: a run of item records across four inputs, and reading
// every output back converted, allocate nothing.
func TestRunNoAlloc(t *testing.T) {
	s, w := sessionT(t, "multi", nil)
	rec := multiRecords(4)
	if err := w.RunRecords(rec); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		_ = w.RunRecords(rec)
		for k, o := range s.Outputs() {
			if o.Kind == Float32 {
				_ = w.Float32(k)
			} else {
				_ = w.Int64(k)
			}
		}
	})
	if n != 0 {
		t.Fatalf("RunRecords and output reads allocate %v times per call", n)
	}
}

// TestFixedBatchConv: x [1,3,8,8] is one item per call (Batch 1), and its
// convolution matches Go's.
func TestFixedBatchConv(t *testing.T) {
	s, w := sessionT(t, "conv_fixed", nil)
	f := s.Feeds()[0]
	if f.Batch != 1 || !slices.Equal(f.Item, []int64{3, 8, 8}) || s.ItemsPerCall() != 1 || s.Outputs()[0].Width != 72 {
		t.Fatalf("feed %+v, items per call %d, outputs %+v", f, s.ItemsPerCall(), s.Outputs())
	}
	x := make([]float32, 3*8*8)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	if err := w.RunRecords(le(x)); err != nil {
		t.Fatal(err)
	}
	got := w.Float32(0)
	for o := range 2 {
		for i := range 6 {
			for j := range 6 {
				var sum float32
				for c := range 3 {
					for di := range 3 {
						for dj := range 3 {
							wt := float32((o*27+c*9+di*3+dj)%5 - 2)
							sum += wt * x[c*64+(i+di)*8+j+dj]
						}
					}
				}
				if g := got[o*36+i*6+j]; g != sum {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", o, i, j, g, sum)
				}
			}
		}
	}
	if err := w.RunRecords(le(append(x, x...))); err == nil || !strings.Contains(err.Error(), "a call of 2 items, the model fixes its batch at 1") {
		t.Fatalf("two items: %v", err)
	}
}

// TestSymbolicDim: x [batch, n, n] needs n set; once set, the output's
// symbolic dims are probed and y = x @ x matches Go.
func TestSymbolicDim(t *testing.T) {
	m := loadT(t, "symbolic")
	if !slices.Equal(m.Inputs[0].DimNames, []string{"batch", "n", "n"}) {
		t.Fatalf("dim names %q", m.Inputs[0].DimNames)
	}
	_, err := m.Feeds(nil)
	want := m.Path + `: input "x" dimension 1 ("n") is not fixed by the model: set workload.shapes.x, e.g. [batch, 128, 128]`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	s, w := sessionT(t, "symbolic", map[string][]string{"x": {"batch", "3", "3"}})
	if o := s.Outputs()[0]; o.Width != 9 {
		t.Fatalf("output %+v", o)
	}
	x := []float32{1, 2, 0, -1, 0.5, 3, 2, 2, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1}
	if err := w.RunRecords(le(x)); err != nil {
		t.Fatal(err)
	}
	got := w.Float32(0)
	for b := range 2 {
		for i := range 3 {
			for j := range 3 {
				var sum float32
				for k := range 3 {
					sum += x[b*9+i*3+k] * x[b*9+k*3+j]
				}
				if g := got[b*9+i*3+j]; g != sum {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", b, i, j, g, sum)
				}
			}
		}
	}
	feeds, err := m.Feeds(map[string][]string{"x": {"batch", "3", "4"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSessionFeeds(m, feeds, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "probing output shapes") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("x @ x of [3, 4] accepted: %v", err)
	}
}

// TestSequenceOutputSkipped: a sequence output is not asked of ORT and is
// named by Skipped; the tensor output runs as usual. NewSession (tabular,
// Check) still refuses the model as before.
func TestSequenceOutputSkipped(t *testing.T) {
	s, w := sessionT(t, "seq_output", nil)
	if !slices.Equal(s.Skipped(), []string{"s"}) || len(s.Outputs()) != 1 || s.Outputs()[0].Name != "y" {
		t.Fatalf("skipped %q outputs %+v", s.Skipped(), s.Outputs())
	}
	if err := w.Run([]float32{1, 2, 3}); err != nil || !slices.Equal(w.Float32(0), []float32{2, 4, 6}) {
		t.Fatalf("%v %v", err, w.Float32(0))
	}
	if err := w.Run([]float32{1, 2}); err == nil || !strings.Contains(err.Error(), "input of 2 values is not a whole number of 3-feature rows") {
		t.Fatalf("a partial row: %v", err)
	}
	if _, err := NewSession(s.model, 3, DefaultOptions()); err == nil || !strings.Contains(err.Error(), `output "s" is a sequence`) {
		t.Fatalf("NewSession: %v", err)
	}
}

// TestNoBatchAxis: x [4] and a scalar k have no batch axis: one item per
// call, the whole output is its item, and the scalar is bound in place.
func TestNoBatchAxis(t *testing.T) {
	s, w := sessionT(t, "nobatch", nil)
	f := s.Feeds()
	if f[0].Batch != -1 || f[1].Batch != -1 || len(f[1].Item) != 0 || s.RecordBytes() != 20 || s.ItemsPerCall() != 1 || s.Outputs()[0].Width != 4 || s.Outputs()[1].Width != 1 {
		t.Fatalf("feeds %+v outputs %+v", f, s.Outputs())
	}
	for _, k := range []float32{3, -0.5} {
		if err := w.RunRecords(le([]float32{1, 2, -4, 0.25, k})); err != nil {
			t.Fatal(err)
		}
		if got, want := w.Float32(0), []float32{k, 2 * k, -4 * k, 0.25 * k}; !slices.Equal(got, want) {
			t.Fatalf("k=%v: %v, want %v", k, got, want)
		}
		if got := w.Float32(1); len(got) != 1 || got[0] != -0.75*k {
			t.Fatalf("k=%v: scalar sum %v, want %v", k, got, -0.75*k)
		}
	}
	if err := w.RunRecords(make([]byte, 40)); err == nil || !strings.Contains(err.Error(), "no batch axis (one item per call)") {
		t.Fatalf("two items: %v", err)
	}
}

// TestScalarFloat16Refused: onnxruntime_go has no rank-0 float16 tensor,
// so such an input or output is refused with a reason, not bound wrongly;
// and a shape whose size overflows is refused, not allocated.
func TestScalarFloat16Refused(t *testing.T) {
	if _, _, err := newTensor(DFloat16, nil); err == nil || !strings.Contains(err.Error(), "rank-0 float16 tensor") {
		t.Fatalf("rank-0 float16: %v", err)
	}
	if _, _, err := newTensor(DInt64, []int64{1 << 30, 1 << 30, 1 << 30}); err == nil || !strings.Contains(err.Error(), "not a shape ortbench can allocate") {
		t.Fatalf("an overflowing shape: %v", err)
	}
}

// TestFeedsRefuseModels: the test models Feeds refuses, one line each.
func TestFeedsRefuseModels(t *testing.T) {
	for _, tc := range []struct{ model, want string }{
		{"mixed_batch", `inputs batch differently: input "a" has a free batch axis, input "b" has its batch axis fixed at 1 by the model`},
		{"zero_dim", `input "x" has shape float32[N, 0]: a zero dimension`},
		{"seq_input", `input "s" is a sequence, ortbench feeds tensors`},
		{"unnamed_dim", `input "x" dimension 1 is not fixed by the model: set workload.shapes.x, e.g. [batch, 128]`},
	} {
		m := loadT(t, tc.model)
		_, err := m.Feeds(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), m.Path+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", tc.model, err, tc.want)
		}
	}
}

// TestSessionFeedsRefused: feeds that do not match the model are refused
// before ORT sees them.
func TestSessionFeedsRefused(t *testing.T) {
	m := loadT(t, "multi")
	feeds, err := m.Feeds(nil)
	if err != nil {
		t.Fatal(err)
	}
	swapped := slices.Clone(feeds)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	odd := slices.Clone(feeds)
	odd[3].Batch = 2
	for _, tc := range []struct {
		feeds []Feed
		want  string
	}{
		{feeds[:2], "2 feeds for a model of 4 inputs"},
		{swapped, `feed 0 is for "b", the model's input 0 is "a"`},
		{odd, `input "a" has a free batch axis, input "d" has its batch axis fixed at 2`},
	} {
		if _, err := NewSessionFeeds(m, tc.feeds, DefaultOptions()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// BenchmarkWorkerRunRecords: four inputs scattered from item records and
// seven outputs read back (four converted), 16 items a call.
func BenchmarkWorkerRunRecords(b *testing.B) {
	s, w := sessionT(b, "multi", nil)
	rec := multiRecords(16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.RunRecords(rec); err != nil {
			b.Fatal(err)
		}
		for k, o := range s.Outputs() {
			if o.Kind == Float32 {
				_ = w.Float32(k)
			} else {
				_ = w.Int64(k)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/item")
}
