package serve

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ortbench/ortbench/runner/load"
)

// mdk1Blocking is the share of arrivals an M/D/1/K queue turns away (K in
// the system, service D, load ρ = λD): from the embedded chain at
// departures, π_{j+1} = (π_j − π_0·a_j − Σ_{i=1..j} π_i·a_{j−i+1}) / a_0
// with a_k the Poisson(ρ) probabilities, normalized over 0..K−1; then
// P(block) = 1 − 1/(π_0 + ρ) (PASTA: arrivals see time averages).
func mdk1Blocking(rho float64, k int) float64 {
	a := func(n int) float64 {
		lg, _ := math.Lgamma(float64(n) + 1)
		return math.Exp(-rho + float64(n)*math.Log(rho) - lg)
	}
	pi := make([]float64, k)
	pi[0] = 1
	for j := 0; j+1 < k; j++ {
		v := pi[j] - pi[0]*a(j)
		for i := 1; i <= j; i++ {
			v -= pi[i] * a(j-i+1)
		}
		pi[j+1] = v / a(0)
	}
	var sum float64
	for _, p := range pi {
		sum += p
	}
	return 1 - 1/(pi[0]/sum+rho)
}

func TestMDK1Formula(t *testing.T) {
	// K = 1 is Erlang's loss formula with one server: ρ/(1+ρ).
	if b := mdk1Blocking(0.5, 1); math.Abs(b-1.0/3) > 1e-12 {
		t.Errorf("M/D/1/1 at ρ 0.5: %g, want 1/3", b)
	}
	if b := mdk1Blocking(1, 2); math.Abs(b-0.2689) > 1e-3 {
		t.Errorf("M/D/1/2 at ρ 1: %g, want 0.2689", b)
	}
}

// counted serves each request in d of the clock and counts what it served.
type counted struct {
	d      time.Duration
	served []atomic.Int32
}

func (c *counted) Run(_, first, n int) error {
	for i := first; i < first+n; i++ {
		c.served[i].Add(1)
	}
	time.Sleep(time.Duration(n) * c.d)
	return nil
}
func (*counted) Check(_, _, _ int) {}

// TestCapDropsMatchMDK1: Poisson arrivals at one server of deterministic
// service, capped at K in flight, on a simulated clock: the dropped share
// matches M/D/1/K, dropped requests are never served, and the latency of
// those served counts from their scheduled arrival (at most K services).
func TestCapDropsMatchMDK1(t *testing.T) {
	const n, d = 40_000, 2 * time.Millisecond
	for _, tc := range []struct {
		rho float64
		k   int
	}{{0.8, 1}, {1, 3}, {1.5, 4}} {
		synctest.Test(t, func(t *testing.T) {
			sched, err := schedule("poisson", tc.rho/d.Seconds(), n, 11)
			if err != nil {
				t.Fatal(err)
			}
			svc := &counted{d: d, served: make([]atomic.Int32, n)}
			o, err := Run(context.Background(), svc, Options{Schedule: sched, Servers: 1, MaxInFlight: tc.k, Spin: -1})
			if err != nil {
				t.Fatal(err)
			}
			served := 0
			for i := range svc.served {
				served += int(svc.served[i].Load())
			}
			if served != o.Completed || o.Completed+o.Dropped != n || o.Unfinished != 0 {
				t.Fatalf("served %d, completed %d, dropped %d, unfinished %d of %d", served, o.Completed, o.Dropped, o.Unfinished, n)
			}
			got, want := float64(o.Dropped)/n, mdk1Blocking(tc.rho, tc.k)
			// A binomial share of n, inflated ×3 for the queue's correlation.
			if tol := 3 * 3 * math.Sqrt(want*(1-want)/n); math.Abs(got-want) > tol {
				t.Errorf("ρ %g K %d: dropped %.4f, M/D/1/K %.4f (±%.4f)", tc.rho, tc.k, got, want, tol)
			}
			if m := o.Latency.Max(); float64(m) > 1.001*float64(time.Duration(tc.k)*d) { // the histogram's 3 digits
				t.Errorf("ρ %g K %d: max latency %s beyond K services", tc.rho, tc.k, m)
			}
			if tc.rho > 1 && !o.Saturated {
				t.Errorf("ρ %g: %.1f%% dropped, not judged saturated", tc.rho, 100*got)
			}
		})
	}
}

// TestGoodputExact: on a simulated clock, every tenth request takes 30 ms
// and the rest 1 ms, 10 ms apart on 4 servers (no queueing): against a
// 20 ms SLO exactly a tenth miss, the goodput is the rest over the span,
// and dropped requests count against the share.
func TestGoodputExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		times := make([]time.Duration, 10)
		for i := range times {
			times[i] = time.Millisecond
		}
		times[9] = 30 * time.Millisecond
		sched, err := schedule("constant", 100, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		o, err := Run(context.Background(), sim{times}, Options{Schedule: sched, Servers: 4, SLO: 20 * time.Millisecond, Spin: -1})
		if err != nil {
			t.Fatal(err)
		}
		perSecond, share := Goodput(o)
		span := sched[999] + 30*time.Millisecond // request 999 is a slow one
		if o.OverSLO != 100 || o.Span != span || perSecond != 900/span.Seconds() || share != 0.9 {
			t.Errorf("over %d, span %s: goodput %g/s (want %g), share %g (want 0.9)", o.OverSLO, o.Span, perSecond, 900/span.Seconds(), share)
		}
		o.Requests += 1000 // as if as many more had been dropped
		if _, share := Goodput(o); share != 0.45 {
			t.Errorf("share with drops %g, want 0.45", share)
		}
	})
}

// TestOverSaturationEndsEarly: on a simulated clock, arrivals at four
// times one server's capacity build a backlog it cannot clear before the
// drain ends: the load ends early, saturated, with the reason. At 80% of
// capacity, and after a stall, it runs to the end.
func TestOverSaturationEndsEarly(t *testing.T) {
	const d = 2 * time.Millisecond // capacity 500/s
	run := func(t *testing.T, qps float64, n int, stall bool) *Outcome {
		sched, err := schedule("poisson", qps, n, 3)
		if err != nil {
			t.Fatal(err)
		}
		svc := &stallSim{d: d}
		if stall {
			svc.stallAt, svc.stallFor = n/4, 500*time.Millisecond
		}
		o, err := Run(context.Background(), svc, Options{Schedule: sched, Servers: 1, Drain: time.Second, Spin: -1})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	synctest.Test(t, func(t *testing.T) {
		o := run(t, 2000, 8000, false) // 4 s of arrivals
		if o.EndedEarly == "" || !o.Saturated || o.Why != o.EndedEarly || !strings.Contains(o.Why, "over-saturated") {
			t.Fatalf("4× overload: ended early %q, saturated %v (%s)", o.EndedEarly, o.Saturated, o.Why)
		}
		if o.Span > 3*time.Second || o.Completed+o.Unfinished != o.Requests {
			t.Errorf("ended at %s (the schedule runs 4 s and 1 s of drain); %d+%d of %d", o.Span, o.Completed, o.Unfinished, o.Requests)
		}
		for _, stall := range []bool{false, true} {
			if o := run(t, 400, 2000, stall); o.EndedEarly != "" || o.Unfinished != 0 {
				t.Errorf("80%% load (stall %v) ended early: %s", stall, o.EndedEarly)
			}
		}
	})
}

// stallSim serves each request in d, and request stallAt in stallFor.
type stallSim struct {
	d, stallFor time.Duration
	stallAt     int
}

func (s *stallSim) Run(_, first, n int) error {
	d := time.Duration(n) * s.d
	if s.stallFor > 0 && first <= s.stallAt && s.stallAt < first+n {
		d += s.stallFor
	}
	time.Sleep(d)
	return nil
}
func (*stallSim) Check(_, _, _ int) {}

// TestTraceReplayOnTheClock: the engine sends a replayed trace's requests
// at the trace's offsets: on a simulated clock the scheduling error is
// nil, each request's latency its service time.
func TestTraceReplayOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := load.Trace{Offsets: []time.Duration{0, 0, time.Millisecond, 3 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}}
		p, err := load.Default().Pacer("trace", load.Spec{Rate: tr.Rate(), Trace: &tr})
		if err != nil {
			t.Fatal(err)
		}
		sched, err := load.Schedule(p, 0, len(tr.Offsets)) // one pass
		if err != nil || !slices.Equal(sched, tr.Offsets) {
			t.Fatalf("schedule %v, %v", sched, err)
		}
		o, err := Run(context.Background(), sim{[]time.Duration{100 * time.Microsecond}}, Options{Schedule: sched, Servers: 6, Spin: -1})
		if err != nil {
			t.Fatal(err)
		}
		if o.Lateness.Max() > time.Microsecond || o.Latency.Max() > 101*time.Microsecond || o.Completed != len(sched) {
			t.Errorf("lateness max %s, latency max %s, %d of %d", o.Lateness.Max(), o.Latency.Max(), o.Completed, len(sched))
		}
	})
}
