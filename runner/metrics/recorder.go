// Package metrics measures a cell: per-goroutine latency recorders (HDR
// histograms, merged after the pass, so the hot loop takes no lock), a
// sampler for memory and CPU over time, and summaries over repetitions with
// golang.org/x/perf/benchmath.
package metrics

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ortbench/ortbench/runner/results"
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
//
// Its histogram (~RecorderBytes) is allocated on the first Record, not up
// front: a cell of 100,000 goroutines over 30 batches per pass holds at
// most 30 histograms, never 100,000 (6 GB).
type Recorder struct {
	h *hdr.Histogram
}

// NewRecorder returns an empty recorder; it allocates nothing until used.
func NewRecorder() *Recorder { return &Recorder{} }

func newHistogram() *hdr.Histogram { return hdr.New(lowestNS, highestNS, sigFigs) }

// Record adds one batch latency. Values beyond the range are clamped, never dropped.
func (r *Recorder) Record(d time.Duration) {
	v := int64(d)
	if v < lowestNS {
		v = lowestNS
	} else if v > highestNS {
		v = highestNS
	}
	if r.h == nil {
		r.h = newHistogram()
	}
	_ = r.h.RecordValue(v)
}

// Count is the number of batches recorded.
func (r *Recorder) Count() int64 {
	if r.h == nil {
		return 0
	}
	return r.h.TotalCount()
}

// Reserve allocates the histogram now, so that no Record allocates: a
// serving goroutine's recorders are reserved before the load starts.
func (r *Recorder) Reserve() *Recorder {
	if r.h == nil {
		r.h = newHistogram()
	}
	return r
}

// Quantile is the latency below which q percent of those recorded fall
// (0 when none was).
func (r *Recorder) Quantile(q float64) time.Duration {
	if r.h == nil {
		return 0
	}
	return time.Duration(r.h.ValueAtQuantile(q))
}

// Mean and Max of the latencies recorded (0 when none was).
func (r *Recorder) Mean() time.Duration {
	if r.h == nil || r.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(r.h.Mean())
}

func (r *Recorder) Max() time.Duration {
	if r.h == nil {
		return 0
	}
	return time.Duration(r.h.Max())
}

// Histogram is the recorder's HDR histogram, for the formats that write
// one (HdrHistogram's interval log); nil when nothing was recorded.
func (r *Recorder) Histogram() *hdr.Histogram { return r.h }

// Allocated reports whether the recorder holds a histogram.
func (r *Recorder) Allocated() bool { return r.h != nil }

// Recorders is a set of per-goroutine recorders for one pass.
type Recorders struct {
	recs []*Recorder
}

// NewRecorders makes n recorders (each allocates on its first Record).
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

// Allocated is how many recorders hold a histogram.
func (s *Recorders) Allocated() int {
	n := 0
	for _, r := range s.recs {
		if r.h != nil {
			n++
		}
	}
	return n
}

// Reset empties every recorder for the next pass (keeping its histogram).
func (s *Recorders) Reset() {
	for _, r := range s.recs {
		if r.h != nil {
			r.h.Reset()
		}
	}
}

// Merge folds every recorder into into (which is not reset first).
func (s *Recorders) Merge(into *Recorder) {
	for _, r := range s.recs {
		into.Add(r)
	}
}

// Latency reads the distribution, in seconds: mean, max, p50 and p99
// always, and each of ps (the run's percentiles; 50 and 99 are P50, P99).
func (r *Recorder) Latency(ps []float64) results.Latency {
	var l results.Latency
	at := func(float64) float64 { return 0 }
	if r.h != nil && r.h.TotalCount() > 0 {
		at = func(q float64) float64 { return float64(r.h.ValueAtQuantile(q)) / 1e9 }
		l.Mean, l.Max = r.h.Mean()/1e9, float64(r.h.Max())/1e9
	}
	l.P50, l.P99 = at(50), at(99)
	for _, p := range ps {
		if p != 50 && p != 99 {
			l.Listed = append(l.Listed, results.Percentile{P: p, Seconds: at(p)})
		}
	}
	return l
}

// Add folds o's latencies into r.
func (r *Recorder) Add(o *Recorder) {
	if o.h == nil || o.h.TotalCount() == 0 {
		return
	}
	if r.h == nil {
		r.h = newHistogram()
	}
	r.h.Merge(o.h)
}

// RecorderBytes is the memory one recorder's histogram holds once it has
// recorded (its counts array; a recorder that never records holds none).
func RecorderBytes() int { return newHistogram().ByteSize() }
