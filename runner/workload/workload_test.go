package workload

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
)

func TestSpansCoverEveryRowOnce(t *testing.T) {
	for _, tc := range []struct{ rows, bs int }{{10, 3}, {10, 10}, {10, 64}, {1, 1}, {1797, 64}} {
		seen := make([]int, tc.rows)
		n := Batches(tc.rows, tc.bs)
		for i := range n {
			start, k := Span(i, tc.bs, tc.rows)
			for r := start; r < start+k; r++ {
				seen[r]++
			}
		}
		for r, c := range seen {
			if c != 1 {
				t.Fatalf("rows %d batch %d: row %d covered %d times", tc.rows, tc.bs, r, c)
			}
		}
		counts := RowCounts(tc.rows, tc.bs)
		_, last := Span(n-1, tc.bs, tc.rows)
		if !slices.Contains(counts, last) || !slices.Contains(counts, min(tc.bs, tc.rows)) {
			t.Fatalf("RowCounts(%d, %d) = %v misses %d", tc.rows, tc.bs, counts, last)
		}
	}
}

func TestHeavyExecutorAndSource(t *testing.T) {
	h, err := NewHeavy(5, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := NewOutputs(h.Layout(), h.Rows(), 2)
	e, err := h.Open(onnx.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := e.NewExecutor()
	if err := x.Run(h.Data()[8:16], 2, out); err != nil {
		t.Fatal(err)
	}
	if out.I64[0][3] != int64(HeavyItem(3, 100)) || out.I64[0][0] != 0 {
		t.Fatalf("outputs %v", out.I64[0])
	}
	src, _ := h.OpenSource()
	buf := make([]byte, 12)
	n, err := src.Read(buf)
	if f, _ := raw.As[float32](buf); n != 12 || err != nil || f[2] != 2 {
		t.Fatalf("read %d %v %v", n, err, buf)
	}
	n, _ = src.Read(buf)
	if n != 8 {
		t.Fatalf("second read %d", n)
	}
	if _, err := src.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if _, err := NewHeavy(0, 1); err == nil || !strings.Contains(err.Error(), "items") {
		t.Fatalf("bad heavy task accepted: %v", err)
	}
}

func TestOutputsCoverage(t *testing.T) {
	h, _ := NewHeavy(7, 1)
	out := NewOutputs(h.Layout(), 7, 3)
	out.Done(0)
	out.Done(2)
	if err := out.Coverage(3); err == nil || !strings.Contains(err.Error(), "batch 1 (rows 3..5) processed 0 times") {
		t.Fatalf("missing batch: %v", err)
	}
	out.Done(1)
	if err := out.Coverage(3); err != nil {
		t.Fatal(err)
	}
	if err := out.Coverage(2); err == nil {
		t.Fatal("a batch beyond the pass was not flagged")
	}
	out.Reset()
	if err := out.Coverage(0); err != nil {
		t.Fatal(err)
	}
}
