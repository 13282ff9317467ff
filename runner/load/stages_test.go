package load

import (
	"math"
	"testing"
	"time"
)

func stageSchedule(t *testing.T, name string, st Stages, seed uint64) []time.Duration {
	t.Helper()
	p, err := Default().Pacer(name, Spec{Rate: 1, Seed: seed, Shape: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	s, err := StageSchedule(p, st)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counts is the arrivals of s in each of the n equal parts of [from, to).
func counts(s []time.Duration, from, to time.Duration, n int) []int {
	out := make([]int, n)
	w := (to - from) / time.Duration(n)
	for _, at := range s {
		if at >= from && at < to {
			out[min(int((at-from)/w), n-1)]++
		}
	}
	return out
}

// TestStagesPoissonRates: each stage's count is within Poisson's error
// (4σ = 4√λ) of its expected ∫rate, a ramp's rate rises through it, and
// nothing arrives after the last stage.
func TestStagesPoissonRates(t *testing.T) {
	st := Stages{{From: 2000, To: 2000, Duration: 10 * time.Second}, {From: 1000, To: 8000, Duration: 10 * time.Second}, {From: 500, To: 500, Duration: 5 * time.Second}}
	s := stageSchedule(t, "poisson", st, 7)
	b := st.Bounds()
	if last := s[len(s)-1]; last >= st.Duration() {
		t.Fatalf("an arrival at %s, after the stages' %s", last, st.Duration())
	}
	for k, n := range counts(s, 0, b[3], 5) { // 5 s parts: stage 1, 1, 2, 2, 3
		want := []float64{10000, 10000, (1000 + 4500) / 2 * 5, (4500 + 8000) / 2 * 5, 2500}[k]
		if math.Abs(float64(n)-want) > 4*math.Sqrt(want) {
			t.Errorf("part %d: %d arrivals, want %.0f ± %.0f", k, n, want, 4*math.Sqrt(want))
		}
	}
	// The ramp, in ten parts of a second: each above the one before.
	ramp := counts(s, b[1], b[2], 10)
	for i := 1; i < len(ramp); i++ {
		if ramp[i] <= ramp[i-1] {
			t.Errorf("the ramp's rate fell: %v", ramp)
			break
		}
	}
	idx := StageOf(s, b)
	for i, at := range s {
		if k := idx[i]; at < b[k] || at >= b[k+1] {
			t.Fatalf("arrival %d at %s put in stage %d [%s, %s)", i, at, k, b[k], b[k+1])
		}
	}
}

// TestStagesConstantExact: constant arrivals through a ramp from 0 are
// deterministic: request i at Λ⁻¹(i), here √(i/a) with a = 50/s².
func TestStagesConstantExact(t *testing.T) {
	st := Stages{{From: 0, To: 1000, Duration: 10 * time.Second}}
	s := stageSchedule(t, "constant", st, 1)
	if len(s) != 5000 {
		t.Fatalf("%d arrivals, want the ramp's ∫rate = 5000", len(s))
	}
	for _, i := range []int{0, 1, 50, 4999} {
		want := time.Duration(math.Sqrt(float64(i)/50) * 1e9)
		if d := s[i] - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("arrival %d at %s, want %s", i, s[i], want)
		}
	}
	// A ramp down to 0 ends at the stage's end.
	down := stageSchedule(t, "constant", Stages{{From: 1000, To: 0, Duration: 2 * time.Second}}, 1)
	if len(down) != 1000 || down[len(down)-1] >= 2*time.Second {
		t.Errorf("ramp down: %d arrivals, last at %s", len(down), down[len(down)-1])
	}
}

// TestStagesGammaKeepsMean: gamma's bursts are kept; its count per stage
// is its mean's (gamma k = 0.5 has variance 2λ: within 5√(2λ)).
func TestStagesGammaKeepsMean(t *testing.T) {
	st := Stages{{From: 1000, To: 1000, Duration: 5 * time.Second}, {From: 3000, To: 3000, Duration: 5 * time.Second}}
	s := stageSchedule(t, "gamma", st, 3)
	for k, n := range counts(s, 0, st.Duration(), 2) {
		want := []float64{5000, 15000}[k]
		if math.Abs(float64(n)-want) > 5*math.Sqrt(2*want) {
			t.Errorf("stage %d: %d arrivals, want %.0f", k+1, n, want)
		}
	}
}

func TestStagesRefused(t *testing.T) {
	p, _ := Default().Pacer("constant", Spec{Rate: 1})
	for _, st := range []Stages{{{From: 0, To: 0, Duration: time.Second}}, {{From: 1, To: -1, Duration: time.Second}}, {{From: 1, To: 1}}} {
		if _, err := StageSchedule(p, st); err == nil {
			t.Errorf("%v: no error", st)
		}
	}
}
