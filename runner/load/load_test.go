package load

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func schedule(t *testing.T, name string, rate float64, d time.Duration, n int, seed uint64) []time.Duration {
	t.Helper()
	p, err := Default().Pacer(name, Spec{Rate: rate, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Schedule(p, d, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPoissonStatistics(t *testing.T) {
	const qps, n = 1000.0, 200_000
	s := schedule(t, "poisson", qps, 0, n, 42)
	if len(s) != n || s[0] != 0 {
		t.Fatalf("%d arrivals, first at %s", len(s), s[0])
	}
	var sum, sq float64
	for i := 1; i < n; i++ {
		d := (s[i] - s[i-1]).Seconds()
		sum += d
		sq += d * d
	}
	mean := sum / (n - 1)
	variance := sq/(n-1) - mean*mean
	// Exponential with rate qps: mean 1/qps, variance 1/qps².
	if math.Abs(mean*qps-1) > 0.01 {
		t.Errorf("mean inter-arrival %.6fs, want %.6fs ±1%%", mean, 1/qps)
	}
	if math.Abs(variance*qps*qps-1) > 0.03 {
		t.Errorf("variance %.3g, want %.3g ±3%%", variance, 1/(qps*qps))
	}
	if again := schedule(t, "poisson", qps, 0, n, 42); !slices.Equal(s, again) {
		t.Error("the same seed gave another schedule")
	}
	if other := schedule(t, "poisson", qps, 0, n, 43); slices.Equal(s, other) {
		t.Error("another seed gave the same schedule")
	}
}

func TestConstantAndMinimums(t *testing.T) {
	c := schedule(t, "constant", 250, 0, 5, 1)
	if want := []time.Duration{0, 4 * time.Millisecond, 8 * time.Millisecond, 12 * time.Millisecond, 16 * time.Millisecond}; !slices.Equal(c, want) {
		t.Errorf("constant: %v", c)
	}
	// Both of LoadGen's minimums hold: the duration (the last arrival at or
	// after it) and the request count.
	long := schedule(t, "constant", 100, 2*time.Second, 50, 1)
	if len(long) != 201 || long[len(long)-1] != 2*time.Second {
		t.Errorf("100/s for 2s: %d arrivals, last at %s", len(long), long[len(long)-1])
	}
	many := schedule(t, "poisson", 10, time.Second, 50, 1)
	if len(many) < 50 || many[len(many)-1] < time.Second {
		t.Errorf("min_requests 50 at 10/s: %d arrivals, last at %s", len(many), many[len(many)-1])
	}
}

// TestGammaCV: gamma gaps have mean 1/qps and coefficient of variation
// 1/√shape; shape 1 is Poisson's (CV 1).
func TestGammaCV(t *testing.T) {
	const qps, n = 500.0, 200_000
	for _, k := range []float64{0.25, 1, 4} {
		p, err := Default().Pacer("gamma", Spec{Rate: qps, Seed: 9, Shape: k})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Schedule(p, 0, n)
		if err != nil {
			t.Fatal(err)
		}
		var sum, sq float64
		for i := 1; i < n; i++ {
			d := (s[i] - s[i-1]).Seconds()
			sum, sq = sum+d, sq+d*d
		}
		mean := sum / (n - 1)
		cv := math.Sqrt(sq/(n-1)-mean*mean) / mean
		if math.Abs(mean*qps-1) > 0.02 {
			t.Errorf("shape %g: mean gap %.6fs, want %.6fs ±2%%", k, mean, 1/qps)
		}
		if want := 1 / math.Sqrt(k); math.Abs(cv/want-1) > 0.03 {
			t.Errorf("shape %g: CV %.3f, want %.3f ±3%%", k, cv, want)
		}
	}
}

func TestRegistryRefuses(t *testing.T) {
	reg := Default()
	for _, name := range reg.Names() {
		if _, err := reg.Pacer(name, Spec{Rate: 0, Shape: 1}); err == nil {
			t.Errorf("%s: rate 0 accepted", name)
		}
		if _, err := reg.Pacer(name, Spec{Rate: math.Inf(1), Shape: 1}); err == nil {
			t.Errorf("%s: rate +Inf accepted", name)
		}
	}
	for _, k := range []float64{0, -1, math.Inf(1)} {
		if _, err := reg.Pacer("gamma", Spec{Rate: 1, Shape: k}); err == nil || !strings.Contains(err.Error(), "shape must be > 0") {
			t.Errorf("gamma shape %g: %v", k, err)
		}
	}
	_, err := reg.Pacer("bursty", Spec{Rate: 1})
	if err == nil || !strings.Contains(err.Error(), "valid: constant, gamma, poisson, trace") {
		t.Errorf("unknown pattern: %v", err)
	}
}

// stopper sends a request every millisecond and stops after three.
type stopper struct{}

func (stopper) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return time.Millisecond, hits >= 3
}
func (stopper) Rate(time.Duration) float64 { return 1000 }

func TestScheduleEndsWhenThePacerStops(t *testing.T) {
	s, err := Schedule(stopper{}, time.Hour, 1000)
	if want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}; err != nil || !slices.Equal(s, want) {
		t.Fatalf("schedule %v, %v; want %v", s, err, want)
	}
}
