package raw

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := []float32{1, -2.5, float32(math.Inf(1))}
	b := Bytes(f)
	if len(b) != 12 {
		t.Fatalf("len %d", len(b))
	}
	g, ok := As[float32](b)
	if !ok || len(g) != 3 || g[1] != -2.5 || &g[0] != &f[0] {
		t.Fatalf("As = %v %v", g, ok)
	}
	if _, ok := As[float32](b[1:5]); ok {
		t.Fatal("unaligned view accepted")
	}
	if _, ok := As[float32](b[:5]); ok {
		t.Fatal("partial element accepted")
	}
	if s, ok := As[int64](nil); !ok || s != nil {
		t.Fatal("empty view refused")
	}
}

func TestAligned(t *testing.T) {
	b := Bytes(make([]int64, 2))
	if !Aligned(b) || Aligned(b[1:]) || !Aligned(nil) {
		t.Fatal("Aligned")
	}
}
