package inputs

import (
	"math"
	"testing"
)

func TestFloat16Known(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {0, 0}, {float32(math.Copysign(0, -1)), 0x8000},
		{65504, 0x7bff}, {65519, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{0.1, 0x2e66}, {1.0 / 3, 0x3555}, {3.140625, 0x4248}, {-0.000123, 0x8808},
		{0x1p-14, 0x0400}, {0x1p-24, 0x0001}, {0x1p-25, 0}, {0x1.8p-25, 0x0001}, {0x1p-26, 0},
		{0x1.ff8p-15, 0x03ff}, {0x1.ffcp-15, 0x0400}, // the largest subnormal; a tie above it rounds up into the smallest normal
		{1 + 0x1p-11, 0x3c00}, {1 + 3*0x1p-11, 0x3c02}, {1 + 0x1p-11 + 0x1p-20, 0x3c01}, // ties to even, just above a tie
		{float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00}, {float32(math.NaN()), 0x7e00},
		{math.SmallestNonzeroFloat32, 0},
	}
	for _, c := range cases {
		if got := Float16(c.f); got != c.want {
			t.Errorf("Float16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

// TestFloat16Exhaustive: every finite half round-trips; the midpoint of two
// neighbours rounds to the even one, and a float32 step either side of it
// to the nearer one.
func TestFloat16Exhaustive(t *testing.T) {
	for h := uint32(0); h < 0x10000; h++ {
		if h&0x7c00 == 0x7c00 {
			continue // Inf, NaN
		}
		f := halfToFloat32(uint16(h))
		if got := Float16(f); uint32(got) != h {
			t.Fatalf("%#04x → %g → %#04x", h, f, got)
		}
		next := h + 1 // the neighbour away from zero (0x7bff's is Inf, 0x7c00)
		if h == 0x8000 || h&0x7fff == 0x7bff {
			continue
		}
		mid := float32((float64(f) + float64(halfToFloat32(uint16(next)))) / 2) // exact: 12 significant bits
		even := h
		if h&1 == 1 {
			even = next
		}
		if got := Float16(mid); uint32(got) != even {
			t.Fatalf("midpoint of %#04x and %#04x: %#04x, want %#04x", h, next, got, even)
		}
		away := float32(math.Copysign(math.Inf(1), float64(f)))
		if got := Float16(math.Nextafter32(mid, away)); uint32(got) != next {
			t.Fatalf("just past the midpoint of %#04x: %#04x", h, got)
		}
		if got := Float16(math.Nextafter32(mid, 0)); uint32(got) != h {
			t.Fatalf("just short of the midpoint of %#04x: %#04x", h, got)
		}
	}
}

// halfToFloat32 decodes a finite half exactly.
func halfToFloat32(h uint16) float32 {
	v := float64(h&0x3ff) * 0x1p-24
	if e := int(h >> 10 & 0x1f); e > 0 {
		v = (1 + float64(h&0x3ff)/1024) * math.Ldexp(1, e-15)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return float32(v)
}
