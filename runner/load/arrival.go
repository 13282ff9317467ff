package load

import (
	"fmt"
	"math"
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

// gamma: gamma-distributed gaps with mean 1/rate and shape k, so their
// coefficient of variation is 1/√k: k = 1 is Poisson, k < 1 bursts
// (clusters of close arrivals, then lulls), k > 1 smoother than Poisson.
// AIPerf's and GuideLLM's bursty arrivals.
type gamma struct {
	rate, shape float64
	rng         *rand.Rand
	sent        uint64
	due         float64
}

var _ Pacer = (*gamma)(nil)

func gammaPattern() Pattern {
	return Pattern{
		Name:    "gamma",
		Summary: "bursty arrivals: gamma gaps with mean 1/qps and load.shape k (CV 1/√k; 1 is Poisson), seeded",
		New: func(s Spec) (Pacer, error) {
			if err := checkRate(s); err != nil {
				return nil, err
			}
			if !(s.Shape > 0) || math.IsInf(s.Shape, 0) {
				return nil, fmt.Errorf("shape must be > 0 (1 = Poisson, below 1 burstier), got %g", s.Shape)
			}
			return &gamma{rate: s.Rate, shape: s.Shape, rng: rand.New(rand.NewPCG(s.Seed, 0x67616d6d612d7271))}, nil
		},
	}
}

func (g *gamma) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	for g.sent < hits {
		g.due += gammaVariate(g.rng, g.shape) / (g.shape * g.rate)
		g.sent++
	}
	return time.Duration(g.due*1e9) - elapsed, false
}

func (g *gamma) Rate(time.Duration) float64 { return g.rate }

// gammaVariate draws Gamma(k, 1) by Marsaglia and Tsang's squeeze (2000);
// for k < 1, Gamma(k+1)·U^(1/k).
func gammaVariate(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaVariate(r, k+1) * math.Pow(1-r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := 1 - r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
