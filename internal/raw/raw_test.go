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

func TestZeroedView(t *testing.T) {
	b := Zeroed(13)
	if len(b) != 13 || !Aligned(b) || Zeroed(0) != nil {
		t.Fatalf("Zeroed(13) len %d aligned %v", len(b), Aligned(b))
	}
	for _, x := range b {
		if x != 0 {
			t.Fatal("Zeroed not zero")
		}
	}
	f := View[float32](b)
	if len(f) != 3 {
		t.Fatalf("View dropped the wrong tail: %d elements", len(f))
	}
	f[1] = 1
	if b[7] != 0x3f || View[int64](nil) != nil {
		t.Fatalf("View is not in place: % x", b[4:8])
	}
}
