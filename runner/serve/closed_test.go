package serve

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ortbench/ortbench/runner/workload"
)

// sim serves request i in exactly times[i % len(times)] of the clock: in
// a synctest bubble, simulated time, so the figures are exact.
type sim struct{ times []time.Duration }

func (s sim) Run(_, first, n int) error {
	var d time.Duration
	for i := first; i < first+n; i++ {
		d += s.times[i%len(s.times)]
	}
	time.Sleep(d)
	return nil
}
func (sim) Check(_, _, _ int) {}

func closed(t *testing.T, svc Service, clients, servers int, d time.Duration) *Outcome {
	t.Helper()
	o, err := Run(context.Background(), svc, Options{Clients: clients, Servers: servers, Duration: d, MinRequests: 100, Reserve: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if o.Clients != clients || o.Completed != o.Requests || o.Unfinished != 0 || o.Completed < 100 {
		t.Fatalf("clients %d: %d of %d completed, %d unfinished", o.Clients, o.Completed, o.Requests, o.Unfinished)
	}
	return o
}

// littles is throughput × mean latency ÷ concurrency: 1 by Little's law.
func littles(o *Outcome) float64 {
	return o.Achieved * o.Latency.Mean().Seconds() / float64(o.Clients)
}

// TestClosedLoopOneClientIsSequential: one client on a simulated 2 ms
// service sees exactly the service time, and sends 1/s_time per second.
func TestClosedLoopOneClientIsSequential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const s = 2 * time.Millisecond
		o := closed(t, sim{[]time.Duration{s}}, 1, 1, time.Second)
		if m := time.Duration(o.Latency.Mean()); math.Abs(float64(m-s)) > 0.05*float64(s) {
			t.Errorf("mean latency %s, want the service time %s ±5%%", m, s)
		}
		if math.Abs(o.Achieved*s.Seconds()-1) > 0.05 {
			t.Errorf("throughput %.0f/s, want %.0f/s", o.Achieved, 1/s.Seconds())
		}
		if q := o.Queueing.Max(); q > time.Microsecond { // the histogram's floor
			t.Errorf("one client queued %s", q)
		}
		if o.Saturated || o.Offered != 0 {
			t.Errorf("closed loop judged as open: saturated %v (%s), offered %g", o.Saturated, o.Why, o.Offered)
		}
	})
}

// TestClosedLoopLittlesLaw: 8 clients on 2 servers of mixed service times
// queue, and X·R = N; throughput is the servers' capacity.
func TestClosedLoopLittlesLaw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := sim{[]time.Duration{time.Millisecond, 3 * time.Millisecond}}
		o := closed(t, svc, 8, 2, time.Second)
		if l := littles(o); math.Abs(l-1) > 0.05 {
			t.Errorf("X·R/N = %.3f (X %.0f/s, R %s), want 1 ±5%%", l, o.Achieved, time.Duration(o.Latency.Mean()))
		}
		if c := 2 / 2e-3; math.Abs(o.Achieved/c-1) > 0.05 { // mean service 2 ms
			t.Errorf("throughput %.0f/s, want the capacity %.0f/s", o.Achieved, c)
		}
		if time.Duration(o.Queueing.Quantile(50)) < time.Millisecond {
			t.Errorf("8 clients on 2 servers did not queue: p50 %s", time.Duration(o.Queueing.Quantile(50)))
		}
	})
}

// TestClosedLoopBatcher: the batcher forms batches from the clients'
// requests in index order, and Little's law still holds.
func TestClosedLoopBatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, err := Run(context.Background(), sim{[]time.Duration{time.Millisecond}}, Options{Clients: 8, Servers: 1, MaxBatch: 4,
			MaxDelay: time.Millisecond, Duration: time.Second, MinRequests: 100, Reserve: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		if o.Batches[4] == 0 || o.Completed != o.Requests {
			t.Fatalf("batches %v, %d of %d completed", o.Batches, o.Completed, o.Requests)
		}
		if l := littles(o); math.Abs(l-1) > 0.05 {
			t.Errorf("X·R/N = %.3f, want 1 ±5%%", l)
		}
	})
}

// TestClosedLoopStopsAtReserveAndDeadline: the load ends when the reserved
// request times are used up, and at the deadline when min_requests cannot
// be met.
func TestClosedLoopStopsAtReserveAndDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := sim{[]time.Duration{time.Millisecond}}
		o, err := Run(context.Background(), svc, Options{Clients: 2, Servers: 1, Duration: time.Hour, MinRequests: 1, Reserve: 50})
		if err != nil || o.Requests != 50 || o.Completed != 50 {
			t.Fatalf("reserve 50: %d sent, %d completed, %v", o.Requests, o.Completed, err)
		}
		o, err = Run(context.Background(), svc, Options{Clients: 1, Servers: 1, Duration: 10 * time.Millisecond, Deadline: 100 * time.Millisecond,
			MinRequests: 1000, Reserve: 1 << 12})
		if err != nil || o.Completed != 100 {
			t.Fatalf("deadline 100 ms at 1 ms a request: %d completed, %v", o.Completed, err)
		}
	})
}

// heavyPool runs the built-in heavy task, one sink per server (no race).
type heavyPool struct {
	cost int
	sink []uint64
}

func (h *heavyPool) Run(w, first, n int) error {
	for i := first; i < first+n; i++ {
		h.sink[w] += workload.HeavyItem(uint64(i), h.cost)
	}
	return nil
}
func (*heavyPool) Check(_, _, _ int) {}

// TestClosedLoopLittlesLawOnHeavyTask: on the real clock and a real task.
// Little's law holds whatever the machine's load, up to the load's end:
// each client's requests run back to back, each due when the last ended,
// so Σ latency is the sum of the clients' busy spans, each between span −
// the longest latency and span. A stall on a shared machine (tens of ms)
// widens only that end term, which the tolerance states.
func TestClosedLoopLittlesLawOnHeavyTask(t *testing.T) {
	h := &heavyPool{cost: 20_000, sink: make([]uint64, 2)}
	o := closed(t, h, 4, 2, 300*time.Millisecond)
	l, tail := littles(o), float64(o.Latency.Max())/float64(o.Span)
	if l > 1.01 || l < 1-max(tail, 0.04)-0.01 {
		t.Errorf("X·R/N = %.3f (X %.0f/s, R %s, %d requests, span %s, longest %s), want 1 −%.3f +0.01",
			l, o.Achieved, o.Latency.Mean(), o.Completed, o.Span, o.Latency.Max(), max(tail, 0.04)+0.01)
	}
}

// TestSearchWholeLevels: the closed loop's search tries whole numbers of
// clients only, ends on adjacent levels, and stops at Max.
func TestSearchWholeLevels(t *testing.T) {
	measure := func(limit float64) func(q float64) (Step, error) {
		return func(q float64) (Step, error) {
			if q != math.Floor(q) || q < 1 {
				t.Fatalf("tried %g clients", q)
			}
			st := Step{QPS: q, Outcome: &Outcome{}}
			if q >= limit {
				st.Rule = RuleEarlyStopping
			}
			return st, nil
		}
	}
	found, _, err := Search(context.Background(), SearchOptions{Start: 1, Precision: 0.001, Whole: true, Max: 4096}, measure(37))
	if err != nil || found.MaxQPS != 36 || found.Upper != 37 {
		t.Errorf("limit 37: found %+v, %v; want [36, 37)", found, err)
	}
	found, steps, _ := Search(context.Background(), SearchOptions{Start: 3, Precision: 0.05, Whole: true, Max: 64}, measure(math.Inf(1)))
	if found.MaxQPS != 64 || found.Upper != 0 || len(steps) > 6 {
		t.Errorf("no limit, max 64: found %+v in %d steps", found, len(steps))
	}
	found, _, _ = Search(context.Background(), SearchOptions{Start: 8, Precision: 0.05, Whole: true}, measure(1))
	if found.MaxQPS != 0 {
		t.Errorf("nothing passes: found %+v", found)
	}
}
