package load

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// MaxTraceArrivals bounds a trace: 8 bytes an arrival held, at most 80 MB.
const MaxTraceArrivals = 10_000_000

// Trace is a recorded load: arrival offsets from its start, sorted.
type Trace struct {
	Offsets []time.Duration
}

// Rate is the trace's mean rate, (arrivals − 1) ÷ (last − first) per
// second (0 for one arrival or all at once).
func (t Trace) Rate() float64 {
	n := len(t.Offsets)
	if n < 2 || t.Offsets[n-1] == t.Offsets[0] {
		return 0
	}
	return float64(n-1) / (t.Offsets[n-1] - t.Offsets[0]).Seconds()
}

// ReadTrace reads a CSV trace: one arrival a line, its offset from the
// trace's start in seconds in the first column (lines starting # are
// comments; a first line that is not a number is a header), times timeScale (2: half the rate). It
// refuses, naming the line, an offset that is not a finite number ≥ 0 or
// is below the one before, a second column (request sizes are not
// replayed: every request carries load.request_rows rows), an empty trace
// and one of more than MaxTraceArrivals arrivals.
func ReadTrace(path string, timeScale float64) (Trace, error) {
	if !(timeScale > 0) || math.IsInf(timeScale, 0) {
		return Trace{}, fmt.Errorf("time_scale must be > 0, got %g", timeScale)
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	defer f.Close()
	var t Trace
	header := true // the first line that is not a comment may be a header
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, ",")
		v, err := strconv.ParseFloat(strings.TrimSpace(fields[0]), 64)
		first := header
		header = false
		switch {
		case err != nil && first:
			continue
		case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
			return Trace{}, fmt.Errorf("%s:%d: %q is not an offset in seconds", path, line, fields[0])
		case len(fields) > 1:
			return Trace{}, fmt.Errorf("%s:%d: %d columns: a trace gives offsets only (request sizes are not replayed; load.request_rows sets them)", path, line, len(fields))
		case v < 0:
			return Trace{}, fmt.Errorf("%s:%d: offset %gs is negative", path, line, v)
		case len(t.Offsets) == MaxTraceArrivals:
			return Trace{}, fmt.Errorf("%s:%d: more than %d arrivals (%d MB held)", path, line, MaxTraceArrivals, MaxTraceArrivals*8>>20)
		}
		d := time.Duration(v * timeScale * 1e9)
		if n := len(t.Offsets); n > 0 && d < t.Offsets[n-1] {
			return Trace{}, fmt.Errorf("%s:%d: offset %gs is before the line above's: the trace must be sorted", path, line, v)
		}
		t.Offsets = append(t.Offsets, d)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	if len(t.Offsets) == 0 {
		return Trace{}, fmt.Errorf("%s: no arrivals", path)
	}
	return t, nil
}

// replay: a trace's arrivals, from its first at 0, rescaled to the spec's
// rate (at the trace's own rate, exactly as recorded), and replayed again
// from the start, one mean gap after its last, until the load's minimums
// are met (a search's higher rates would otherwise outrun min_duration).
type replay struct {
	offsets []time.Duration
	scale   float64
	period  float64 // one pass, in trace time (ns): its span + one mean gap
}

var _ Pacer = (*replay)(nil)

func tracePattern() Pattern {
	return Pattern{
		Name:    "trace",
		Summary: "a recorded trace's arrivals (load.trace, times load.time_scale), rescaled to each qps and repeated: its bursts and lulls kept",
		New: func(s Spec) (Pacer, error) {
			if s.Trace == nil || len(s.Trace.Offsets) == 0 {
				return nil, errors.New("no trace: set load.trace to a CSV of arrival offsets")
			}
			if err := checkRate(s); err != nil {
				return nil, err
			}
			o := s.Trace.Offsets
			r := &replay{offsets: o, scale: 1, period: 1e9 / s.Rate}
			if own := s.Trace.Rate(); own > 0 {
				r.scale = own / s.Rate
				r.period = float64(o[len(o)-1]-o[0]) * float64(len(o)) / float64(len(o)-1)
			}
			return r, nil
		},
	}
}

func (r *replay) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	n := uint64(len(r.offsets))
	pass, i := hits/n, hits%n
	at := (float64(pass)*r.period + float64(r.offsets[i]-r.offsets[0])) * r.scale
	return time.Duration(at) - elapsed, false
}

func (r *replay) Rate(time.Duration) float64 {
	return float64(len(r.offsets)) / (r.period * r.scale / 1e9)
}
