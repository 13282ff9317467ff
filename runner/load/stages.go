package load

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Stage is one stage of a staged load: the rate rises (or falls) linearly
// from From to To requests per second over Duration; From == To is a
// constant rate.
type Stage struct {
	From, To float64
	Duration time.Duration
}

// Stages is a staged load, its stages back to back.
type Stages []Stage

// Duration is the stages' total.
func (st Stages) Duration() time.Duration {
	var d time.Duration
	for _, s := range st {
		d += s.Duration
	}
	return d
}

// Mean is the stages' mean target rate: their expected requests over
// their duration.
func (st Stages) Mean() float64 {
	var n float64
	for _, s := range st {
		n += s.expected()
	}
	return n / st.Duration().Seconds()
}

// Bounds are the stages' start times from the load's start, and the end
// of the last.
func (st Stages) Bounds() []time.Duration {
	out := make([]time.Duration, len(st)+1)
	for i, s := range st {
		out[i+1] = out[i] + s.Duration
	}
	return out
}

// expected is the stage's requests, ∫ rate dt over it.
func (s Stage) expected() float64 { return (s.From + s.To) / 2 * s.Duration.Seconds() }

// at is the time into the stage by which u requests are expected, the
// inverse of Λ(τ) = From·τ + (To−From)/(2d)·τ²; the root in the form
// 2u/(From + √(From² + 4au)) stays exact when the ramp is flat or starts
// at 0.
func (s Stage) at(u float64) float64 {
	if u <= 0 {
		return 0
	}
	a := (s.To - s.From) / (2 * s.Duration.Seconds())
	return 2 * u / (s.From + math.Sqrt(max(s.From*s.From+4*a*u, 0)))
}

// StageSchedule is a staged load's arrival times: p's arrivals at rate 1,
// taken as expected counts (operational time) and mapped through the
// inverse of the stages' cumulative rate — time-rescaling, which turns
// unit-rate Poisson into the non-homogeneous Poisson process of the
// stages' rate, and keeps any other pattern's shape (gamma's bursts, a
// trace's lulls) at the instantaneous rate. Arrivals beyond the last
// stage are not sent. p must have been made at rate 1.
func StageSchedule(p Pacer, st Stages) ([]time.Duration, error) {
	var total float64
	for i, s := range st {
		if !(s.Duration > 0) || !(s.From >= 0) || !(s.To >= 0) || s.From+s.To == 0 || math.IsInf(s.From+s.To, 0) {
			return nil, fmt.Errorf("stage %d: rates %g→%g over %s cannot be paced", i+1, s.From, s.To, s.Duration)
		}
		total += s.expected()
	}
	if total > MaxRequests {
		return nil, fmt.Errorf("the stages would send more than %d requests", MaxRequests)
	}
	out := make([]time.Duration, 0, int(total)+16)
	var t time.Duration // the pacer's clock, in operational time
	k, base, start := 0, 0.0, time.Duration(0)
	for {
		wait, stop := p.Pace(t, uint64(len(out)))
		if stop {
			break
		}
		t += max(wait, 0)
		u := t.Seconds()
		for k < len(st) && u-base >= st[k].expected() {
			base += st[k].expected()
			start += st[k].Duration
			k++
		}
		if k == len(st) {
			break
		}
		if len(out) == MaxRequests {
			return nil, fmt.Errorf("the load would send more than %d requests", MaxRequests)
		}
		at := start + time.Duration(st[k].at(u-base)*1e9)
		out = append(out, min(at, start+st[k].Duration-1))
	}
	if len(out) == 0 {
		return nil, errors.New("the stages send no request")
	}
	return out, nil
}

// StageOf returns, for each arrival of sched, the index of the stage it
// falls in (bounds from Stages.Bounds).
func StageOf(sched []time.Duration, bounds []time.Duration) []int32 {
	out := make([]int32, len(sched))
	k := 0
	for i, at := range sched {
		for k < len(bounds)-2 && at >= bounds[k+1] {
			k++
		}
		out[i] = int32(k)
	}
	return out
}
