// Package metrics measures a cell: per-goroutine latency recorders (HDR
// histograms, merged after the pass, so the hot loop takes no lock), a
// sampler for memory and CPU over time, and summaries over repetitions with
// golang.org/x/perf/benchmath.
package metrics

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds from 1 ns to 10 minutes with 3
// significant digits.
const (
	lowestNS  = 1
	highestNS = int64(10 * time.Minute)
	sigFigs   = 3
)

// Recorder collects one goroutine's batch latencies. Not safe for concurrent
// use: each goroutine owns one, so recording is a few adds, no lock.
type Recorder struct {
	h *hdr.Histogram
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{h: hdr.New(lowestNS, highestNS, sigFigs)} }

// Record adds one batch latency. Values beyond the range are clamped, never dropped.
func (r *Recorder) Record(d time.Duration) {
	v := int64(d)
	if v < lowestNS {
		v = lowestNS
	} else if v > highestNS {
		v = highestNS
	}
	_ = r.h.RecordValue(v)
}

// Count is the number of batches recorded.
func (r *Recorder) Count() int64 { return r.h.TotalCount() }

// Recorders is a set of per-goroutine recorders for one pass.
type Recorders struct {
	recs []*Recorder
}

// NewRecorders makes n recorders.
func NewRecorders(n int) *Recorders {
	s := &Recorders{recs: make([]*Recorder, n)}
	for i := range s.recs {
		s.recs[i] = NewRecorder()
	}
	return s
}

// Get returns goroutine i's recorder.
func (s *Recorders) Get(i int) *Recorder { return s.recs[i] }

// Len is the number of recorders.
func (s *Recorders) Len() int { return len(s.recs) }

// Reset empties every recorder for the next pass.
func (s *Recorders) Reset() {
	for _, r := range s.recs {
		r.h.Reset()
	}
}

// Merge folds every recorder into into (which is not reset first).
func (s *Recorders) Merge(into *Recorder) {
	for _, r := range s.recs {
		into.h.Merge(r.h)
	}
}

// Quantiles of a recorder, in seconds.
type Quantiles struct {
	Mean, P50, P90, P99, P999, Max float64
}

// Quantiles reads the distribution.
func (r *Recorder) Quantiles() Quantiles {
	if r.h.TotalCount() == 0 {
		return Quantiles{}
	}
	s := func(ns int64) float64 { return float64(ns) / 1e9 }
	return Quantiles{
		Mean: r.h.Mean() / 1e9,
		P50:  s(r.h.ValueAtQuantile(50)),
		P90:  s(r.h.ValueAtQuantile(90)),
		P99:  s(r.h.ValueAtQuantile(99)),
		P999: s(r.h.ValueAtQuantile(99.9)),
		Max:  s(r.h.Max()),
	}
}

// Add folds o's latencies into r.
func (r *Recorder) Add(o *Recorder) { r.h.Merge(o.h) }
