// Package serve is the server scenario: requests arrive on their own,
// seeded schedule (open loop, as MLPerf LoadGen's server scenario, wrk2 and
// vegeta do) and are served by a cell's sessions; latency runs from each
// request's SCHEDULED arrival to its completion, so a stalled server shows
// in the latency of every request that arrived during the stall instead of
// delaying their sending (no coordinated omission). It also searches each
// strategy's highest QPS that meets a latency SLO (search.go).
//
// One engine serves every strategy with a serving side (strategy.ServingOf
// gives the shape: sessions, goroutines per session, threads, batching);
// the worker processes' sessions live in other processes and serve through
// strategy.RowServer.
//
// Note: a Serve method on each strategy was the alternative; it was not
// taken because the strategies differ under load only in their shape, and
// one engine keeps the clock, queue and recorders identical for all of
// them.
package serve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Arrival processes.
const (
	Poisson  = "poisson"
	Constant = "constant"
)

// Schedule returns n arrival times (offsets from the start) at qps
// requests per second: exponential inter-arrival times with mean 1/qps
// (poisson) or exactly 1/qps apart (constant), the first at 0. The same
// seed gives the same schedule.
func Schedule(kind string, qps float64, n int, seed uint64) ([]time.Duration, error) {
	if !(qps > 0) || math.IsInf(qps, 0) {
		return nil, fmt.Errorf("qps must be > 0, got %g", qps)
	}
	if n < 0 {
		return nil, fmt.Errorf("%d requests", n)
	}
	out := make([]time.Duration, n)
	switch kind {
	case Constant:
		for i := range out {
			out[i] = time.Duration(float64(i) / qps * 1e9)
		}
	case Poisson:
		rng := rand.New(rand.NewPCG(seed, 0x73657276652d7271))
		t := 0.0
		for i := range out {
			out[i] = time.Duration(t * 1e9)
			t += rng.ExpFloat64() / qps
		}
	default:
		return nil, fmt.Errorf("arrival %q: want poisson or constant", kind)
	}
	return out, nil
}

// Requests is about how many requests a run at qps issues: enough for
// both of LoadGen's minimums, the duration and the request count.
func Requests(qps float64, duration time.Duration, minRequests int) int {
	return max(int(math.Ceil(qps*duration.Seconds())), minRequests, 1)
}

// ScheduleFor is a schedule that lasts at least duration and holds at
// least minRequests requests (LoadGen's two minimums), as Schedule makes
// it: its first n arrivals are Schedule's.
func ScheduleFor(kind string, qps float64, duration time.Duration, minRequests int, seed uint64) ([]time.Duration, error) {
	n := Requests(qps, duration, minRequests)
	for {
		s, err := Schedule(kind, qps, n, seed)
		if err != nil || s[len(s)-1] >= duration {
			return s, err
		}
		n += n/8 + 16
	}
}
