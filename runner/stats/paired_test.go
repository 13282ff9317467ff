package stats

import (
	"slices"
	"testing"
)

type rep struct {
	round int
	v     float64
}

func roundOf(r rep) int     { return r.round }
func valueOf(r rep) float64 { return r.v }

// TestPairedRatios: rounds pair by number, whatever their order; a round
// only one side measured, round 0 and non-positive values pair with nothing.
func TestPairedRatios(t *testing.T) {
	a := []rep{{3, 30}, {1, 10}, {2, 0}, {4, 8}, {0, 5}, {5, 12}}
	b := []rep{{1, 5}, {2, 4}, {3, 10}, {0, 5}, {5, -1}}
	got := PairedRatios(a, b, roundOf, valueOf)
	if want := []float64{3, 2}; !slices.Equal(got, want) {
		t.Errorf("PairedRatios = %v, want %v", got, want)
	}
	if got := PairedRatios(nil, b, roundOf, valueOf); len(got) != 0 {
		t.Errorf("no rounds on one side: %v, want none", got)
	}
}
