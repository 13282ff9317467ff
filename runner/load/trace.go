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

// MaxTraceArrivals bounds a trace: 8 bytes an arrival held (12 with
// sizes), at most 120 MB.
const MaxTraceArrivals = 10_000_000

// Trace is a recorded load: arrival offsets from its start, sorted, and
// with a size column each request's rows (nil: load.request_rows each).
type Trace struct {
	Offsets []time.Duration
	Rows    []int32
}

// MaxRows is the largest request size a trace may give.
func (t Trace) MaxRows() int {
	m := 0
	for _, r := range t.Rows {
		m = max(m, int(r))
	}
	return m
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

// ReadTrace reads a trace, times timeScale (2: half the rate): a Parquet
// file (.parquet: columns offset_seconds and, optional, rows) or a CSV of
// one arrival a line, its offset from the trace's start in seconds and,
// optional, its size in rows (lines starting # are comments; a first
// line that is not a number is a header). It refuses, naming the line
// (the row), an offset that is not a finite number ≥ 0 or is below the
// one before, a size that is not a whole number ≥ 1, sizes on some lines
// only, an empty trace and one of more than MaxTraceArrivals arrivals.
func ReadTrace(path string, timeScale float64) (Trace, error) {
	if !(timeScale > 0) || math.IsInf(timeScale, 0) {
		return Trace{}, fmt.Errorf("time_scale must be > 0, got %g", timeScale)
	}
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		return readParquetTrace(path, timeScale)
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
	b := traceBuilder{path: path, scale: timeScale}
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
		case len(fields) > 2:
			return Trace{}, fmt.Errorf("%s:%d: %d columns: a trace gives an offset and, optional, a size in rows", path, line, len(fields))
		}
		var rows int64
		if len(fields) == 2 {
			if rows, err = strconv.ParseInt(strings.TrimSpace(fields[1]), 10, 64); err != nil {
				return Trace{}, fmt.Errorf("%s:%d: size %q is not a whole number of rows", path, line, strings.TrimSpace(fields[1]))
			}
		}
		if err := b.add(fmt.Sprintf("%s:%d", path, line), v, rows, len(fields) == 2); err != nil {
			return Trace{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	return b.done()
}

// traceBuilder checks and keeps a trace's arrivals as they are read.
type traceBuilder struct {
	path  string
	scale float64
	t     Trace
	sized int // 1: every arrival has a size so far, −1: none has, 0: no arrival yet
}

// add appends an arrival at v seconds of rows rows (hasSize false: no
// size given), or says, at where, why not.
func (b *traceBuilder) add(where string, v float64, rows int64, hasSize bool) error {
	n := len(b.t.Offsets)
	sized := -1
	if hasSize {
		sized = 1
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%s: %g is not an offset in seconds", where, v)
	case v < 0:
		return fmt.Errorf("%s: offset %gs is negative", where, v)
	case hasSize && rows < 1:
		return fmt.Errorf("%s: size %d: a request carries at least 1 row", where, rows)
	case hasSize && rows > math.MaxInt32:
		return fmt.Errorf("%s: size %d rows is too large", where, rows)
	case b.sized != 0 && sized != b.sized:
		return fmt.Errorf("%s: sizes on some arrivals only: give every arrival a size in rows, or none", where)
	case n == MaxTraceArrivals:
		return fmt.Errorf("%s: more than %d arrivals (%d MB held)", where, MaxTraceArrivals, MaxTraceArrivals*12>>20)
	}
	d := time.Duration(v * b.scale * 1e9)
	if n > 0 && d < b.t.Offsets[n-1] {
		return fmt.Errorf("%s: offset %gs is before the one above's: the trace must be sorted", where, v)
	}
	b.sized = sized
	b.t.Offsets = append(b.t.Offsets, d)
	if hasSize {
		b.t.Rows = append(b.t.Rows, int32(rows))
	}
	return nil
}

func (b *traceBuilder) done() (Trace, error) {
	if len(b.t.Offsets) == 0 {
		return Trace{}, fmt.Errorf("%s: no arrivals", b.path)
	}
	return b.t, nil
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
				return nil, errors.New("no trace: set load.trace to a CSV or Parquet file of arrival offsets")
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
