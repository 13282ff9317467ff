package load

import (
	"math/rand/v2"
	"time"
)

// poisson: exponential inter-arrival times with mean 1/rate, the first
// request at 0 — independent arrivals, LoadGen's server scenario.
type poisson struct {
	rate float64
	rng  *rand.Rand
	sent uint64  // the arrivals drawn so far, after the first
	due  float64 // arrival time of request number sent, in seconds
}

var _ Pacer = (*poisson)(nil)

func poissonPattern() Pattern {
	return Pattern{
		Name:    "poisson",
		Summary: "independent arrivals: exponential gaps with mean 1/qps, seeded (load.seed, else the run's seed)",
		New: func(s Spec) (Pacer, error) {
			if err := checkRate(s); err != nil {
				return nil, err
			}
			return &poisson{rate: s.Rate, rng: rand.New(rand.NewPCG(s.Seed, 0x73657276652d7271))}, nil
		},
	}
}

func (p *poisson) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	for p.sent < hits {
		p.due += p.rng.ExpFloat64() / p.rate
		p.sent++
	}
	return time.Duration(p.due*1e9) - elapsed, false
}

func (p *poisson) Rate(time.Duration) float64 { return p.rate }

// constant: requests exactly 1/rate apart, the first at 0.
type constant struct{ rate float64 }

var _ Pacer = constant{}

func constantPattern() Pattern {
	return Pattern{
		Name:    "constant",
		Summary: "requests exactly 1/qps apart",
		New: func(s Spec) (Pacer, error) {
			if err := checkRate(s); err != nil {
				return nil, err
			}
			return constant{rate: s.Rate}, nil
		},
	}
}

func (c constant) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return time.Duration(float64(hits)/c.rate*1e9) - elapsed, false
}

func (c constant) Rate(time.Duration) float64 { return c.rate }
