package serve

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/load"
)

// TestGammaGoodputBelowPoisson: one server of deterministic 2 ms service
// at 80% of its capacity, on a simulated clock, under Poisson and gamma
// (shape 0.25, CV 2) arrivals at the same mean rate: the bursts queue
// requests past a 20 ms SLO that Poisson's smoother arrivals do not, so
// gamma's goodput is well below Poisson's (Kingman: the mean wait grows
// with (CV_a² + CV_s²)/2, 4 ms to 16 ms here).
func TestGammaGoodputBelowPoisson(t *testing.T) {
	const n, d, rho = 20_000, 2 * time.Millisecond, 0.8
	share := map[string]float64{}
	offered := map[string]float64{}
	for _, tc := range []struct {
		arrival string
		shape   float64
	}{{"poisson", 1}, {"gamma", 0.25}} {
		synctest.Test(t, func(t *testing.T) {
			p, err := load.Default().Pacer(tc.arrival, load.Spec{Rate: rho / d.Seconds(), Seed: 7, Shape: tc.shape})
			if err != nil {
				t.Fatal(err)
			}
			sched, err := load.Schedule(p, 0, n)
			if err != nil {
				t.Fatal(err)
			}
			svc := &counted{d: d, served: make([]atomic.Int32, n)}
			o, err := Run(context.Background(), svc, Options{Schedule: sched, Servers: 1, SLO: 20 * time.Millisecond, Spin: -1})
			if err != nil {
				t.Fatal(err)
			}
			if o.Completed != n {
				t.Fatalf("%s: completed %d of %d", tc.arrival, o.Completed, n)
			}
			_, share[tc.arrival] = Goodput(o)
			offered[tc.arrival] = o.Offered
		})
	}
	// The same mean rate (within a few percent: one seeded draw each)...
	if r := offered["gamma"] / offered["poisson"]; math.Abs(r-1) > 0.05 {
		t.Fatalf("offered %.0f/s gamma vs %.0f/s poisson: not the same mean rate", offered["gamma"], offered["poisson"])
	}
	// ...and most of Poisson's requests within the SLO, far fewer of gamma's.
	if share["poisson"] < 0.9 || share["gamma"] > share["poisson"]-0.1 {
		t.Errorf("goodput share: poisson %.3f, gamma %.3f; want poisson ≥ 0.9 and gamma at least 0.1 below", share["poisson"], share["gamma"])
	}
	t.Logf("goodput share at ρ %.1f: poisson %.3f, gamma %.3f", rho, share["poisson"], share["gamma"])
}

// TestPasses: one arrival is one pass of every load, as before; a list is
// a pass per arrival without the closed loop, then the closed loop alone.
func TestPasses(t *testing.T) {
	l := config.LoadSection{Scenario: config.ScenarioServer, Arrival: config.StringList{"poisson"}, QPS: config.IntList{100}, Concurrency: config.IntList{4}}
	if ps := passes(l); len(ps) != 1 || ps[0].arrival != "" || len(ps[0].load.Concurrency) != 1 || len(ps[0].load.QPS) != 1 {
		t.Fatalf("one arrival: %+v", ps)
	}
	l.Arrival = config.StringList{"gamma", "trace"}
	ps := passes(l)
	if len(ps) != 3 {
		t.Fatalf("%d passes: %+v", len(ps), ps)
	}
	for i, a := range []string{"gamma", "trace"} {
		if ps[i].arrival != a || ps[i].load.Pattern() != a || len(ps[i].load.Concurrency) != 0 || len(ps[i].load.QPS) != 1 {
			t.Errorf("pass %d: %+v", i, ps[i])
		}
	}
	if c := ps[2]; c.arrival != "" || len(c.load.QPS) != 0 || len(c.load.Concurrency) != 1 || c.load.Pattern() == config.ArrivalTrace {
		t.Errorf("closed pass: %+v", c)
	}
	l.Concurrency = nil
	if ps := passes(l); len(ps) != 2 {
		t.Errorf("no closed loop: %d passes", len(ps))
	}
}
