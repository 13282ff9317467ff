package serve

import (
	"time"

	"github.com/ortbench/ortbench/runner/load"
)

// schedule is n arrivals of the named pattern at qps.
func schedule(kind string, qps float64, n int, seed uint64) ([]time.Duration, error) {
	return scheduleFor(kind, qps, 0, n, seed)
}

// scheduleFor is a load of the named pattern meeting both minimums, as
// serving one makes it.
func scheduleFor(kind string, qps float64, d time.Duration, minRequests int, seed uint64) ([]time.Duration, error) {
	p, err := load.Default().Pacer(kind, load.Spec{Rate: qps, Seed: seed})
	if err != nil {
		return nil, err
	}
	return load.Schedule(p, d, minRequests)
}
