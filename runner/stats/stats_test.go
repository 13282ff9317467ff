package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// noisy is n repetitions around 1000 with relative noise sd and, every
// 50th, an outlier 40% low (a disturbed moment the detector missed).
func noisy(seed uint64, n int, sd float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = 1000 * (1 + sd*rng.NormFloat64())
		if i%50 == 49 {
			xs[i] *= 0.6
		}
	}
	return xs
}

// TestStableStaysStable: a stable series stays stable from 6 to 800
// repetitions, although its range grows with the count.
func TestStableStaysStable(t *testing.T) {
	for _, n := range []int{6, 12, 50, 200, 800} {
		xs := noisy(uint64(n), n, 0.05)
		st := Judge(xs, 0.25)
		if st.Unstable() {
			t.Errorf("n=%d: %s (dispersion %.3f)", n, st.Reason, st.Dispersion)
		}
		if st.Dispersion > 0.15 {
			t.Errorf("n=%d: dispersion %.3f, want about 0.07", n, st.Dispersion)
		}
	}
	// The range of 800 repetitions is far beyond the limit: what the old
	// definition flagged.
	xs := noisy(800, 800, 0.05)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	if (hi-lo)/1000 < 0.25 {
		t.Fatalf("test series too quiet: range %.2f", (hi-lo)/1000)
	}
}

func TestUnstableSeriesFlagged(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := map[string][]float64{}
	var bimodal, drifting, wide []float64
	for i := range 60 {
		level := 1000.0
		if i%2 == 1 {
			level = 1500
		}
		bimodal = append(bimodal, level*(1+0.01*rng.NormFloat64()))
		drifting = append(drifting, (1000+10*float64(i))*(1+0.01*rng.NormFloat64()))
		wide = append(wide, 1000*(1+0.4*rng.NormFloat64()))
	}
	cases["bimodal"], cases["drifting"], cases["wide"] = bimodal, drifting, wide
	// 10% of the values in a second group: the IQR misses it, the gap not.
	var minority []float64
	for i := range 100 {
		level := 1000.0
		if i%10 == 0 {
			level = 1600
		}
		minority = append(minority, level*(1+0.01*rng.NormFloat64()))
	}
	cases["minority"] = minority
	for name, xs := range cases {
		if st := Judge(xs, 0.25); !st.Unstable() {
			t.Errorf("%s: judged stable (dispersion %.3f)", name, st.Dispersion)
		}
	}
	// A slight drift within the limit is not a reason.
	var slight []float64
	for i := range 60 {
		slight = append(slight, 1000+float64(i))
	}
	if st := Judge(slight, 0.25); st.Unstable() {
		t.Errorf("6%% drift: %s", st.Reason)
	}
}

func TestDispersionDefinition(t *testing.T) {
	// 1..5: Q1 2, median 3, Q3 4 → IQR/median 2/3.
	if d := Dispersion([]float64{5, 1, 4, 2, 3}); math.Abs(d-2.0/3) > 1e-12 {
		t.Errorf("dispersion %v, want 2/3", d)
	}
	if !math.IsNaN(Dispersion([]float64{1})) {
		t.Error("one value has no dispersion")
	}
	if WidenFactor(0.5, 0.25) != 2 || WidenFactor(0.1, 0.25) != 1 || WidenFactor(math.NaN(), 0.25) != 1 {
		t.Error("widen factor")
	}
}

func TestRatioShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var old, slow, same []float64
	for range 10 {
		old = append(old, 1000*(1+0.05*rng.NormFloat64()))
		slow = append(slow, 300*(1+0.05*rng.NormFloat64()))
		same = append(same, 1000*(1+0.05*rng.NormFloat64()))
	}
	iv := RatioShift(old, slow)
	if !iv.Below(0.9) || math.Abs(iv.Median-0.3) > 0.03 {
		t.Errorf("−70%%: %+v", iv)
	}
	iv = RatioShift(old, same)
	if !iv.Known() || iv.Lo > 1 || iv.Hi < 1 {
		t.Errorf("no change: %+v, want an interval about 1", iv)
	}
	if w := iv.Widen(2); w.Lo >= iv.Lo || w.Hi <= iv.Hi || w.Median != iv.Median || w.Widened != 2 {
		t.Errorf("widened %+v from %+v", w, iv)
	}
	if iv := RatioShift(old[:3], slow[:3]); iv.Known() {
		t.Errorf("3+3 values: %+v, want no interval", iv)
	}
}

func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.5}, 0.05)
	// Sorted 0.01 < 0.05/4; 0.03 ≥ 0.05/3 stops: only the first survives.
	want := []bool{true, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("holm %v, want %v", got, want)
		}
	}
	if got := Holm([]float64{0.001, 0.001}, 0.05); !got[0] || !got[1] {
		t.Errorf("holm %v", got)
	}
}

func TestDecide(t *testing.T) {
	cs := []Contest{
		{Rival: "slow", Ratio: Interval{Median: 1.5, Lo: 1.4, Hi: 1.6, Confidence: 0.95}},
		{Rival: "close", Ratio: Interval{Median: 1.02, Lo: 0.98, Hi: 1.06, Confidence: 0.95}},
		{Rival: "few", Ratio: Interval{Median: 1.5}},
	}
	beaten, tied := Decide(cs)
	if len(beaten) != 1 || beaten[0].Rival != "slow" || len(tied) != 2 {
		t.Errorf("beaten %v tied %v", beaten, tied)
	}
	// Widened by instability, the separated rival overlaps.
	cs[0].Ratio = cs[0].Ratio.Widen(8)
	if cs[0].Separated() {
		t.Errorf("widened ×8 %+v still separated", cs[0].Ratio)
	}
}
