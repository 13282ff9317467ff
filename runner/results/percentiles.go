package results

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DefaultPercentiles is the percentiles key's default, and the list of a
// results.json written before the key existed.
var DefaultPercentiles = []float64{50, 90, 99, 99.9}

// MaxPercentiles bounds the list: each one is a column in every table.
const MaxPercentiles = 8

// Percentile is one latency percentile's value: P 99.9 = p99.9.
type Percentile struct {
	P       float64
	Seconds float64
}

// Percentiles is the run's list (Settings.Percentiles), the default for
// files written before it was recorded. Every output's percentile columns
// come from here.
func (r *Run) Percentiles() []float64 {
	if len(r.Settings.Percentiles) == 0 {
		return DefaultPercentiles
	}
	return r.Settings.Percentiles
}

// PercentileNames are the run's percentiles as a list: "p50, p99.99".
func (r *Run) PercentileNames() string {
	names := make([]string, len(r.Percentiles()))
	for i, p := range r.Percentiles() {
		names[i] = PercentileName(p)
	}
	return strings.Join(names, ", ")
}

// PercentileName is a percentile's label and JSON key: 99.99 → "p99.99".
func PercentileName(p float64) string {
	return "p" + strconv.FormatFloat(p, 'f', -1, 64)
}

// percentileColumn is its flat column: 99.99 → "latency_p99_99_seconds".
func percentileColumn(p float64) string {
	return "latency_" + strings.ReplaceAll(PercentileName(p), ".", "_") + "_seconds"
}

// At is the latency at percentile p; 0 where it was not measured.
func (l Latency) At(p float64) float64 {
	switch p {
	case 50:
		return l.P50
	case 99:
		return l.P99
	}
	for _, q := range l.Listed {
		if q.P == p {
			return q.Seconds
		}
	}
	return 0
}

// ListedMap are the Listed percentiles by name (Repetition.Latency); nil
// without any.
func (l Latency) ListedMap() map[string]float64 {
	if len(l.Listed) == 0 {
		return nil
	}
	out := make(map[string]float64, len(l.Listed))
	for _, q := range l.Listed {
		out[PercentileName(q.P)] = q.Seconds
	}
	return out
}

// all are every percentile the latency holds, ascending.
func (l Latency) all() []Percentile {
	out := append([]Percentile{{50, l.P50}, {99, l.P99}}, l.Listed...)
	slices.SortStableFunc(out, func(a, b Percentile) int { return cmp.Compare(a.P, b.P) })
	return slices.CompactFunc(out, func(a, b Percentile) bool { return a.P == b.P })
}

// MarshalJSON writes one flat object: "mean", each percentile ascending
// under its name ("p50", "p99.9"), "max".
func (l Latency) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	put := func(key string, v float64) error {
		x, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("latency %s: %w", key, err)
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", key, x)
		return nil
	}
	if err := put("mean", l.Mean); err != nil {
		return nil, err
	}
	for _, q := range l.all() {
		if err := put(PercentileName(q.P), q.Seconds); err != nil {
			return nil, err
		}
	}
	if err := put("max", l.Max); err != nil {
		return nil, err
	}
	return append(append([]byte{'{'}, b.Bytes()...), '}'), nil
}

// UnmarshalJSON reads MarshalJSON's object, and the older fixed one
// (p50, p90, p99, p999).
func (l *Latency) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*l = Latency{Mean: m["mean"], Max: m["max"], P50: m["p50"], P99: m["p99"]}
	for k, v := range m {
		p, ok := percentileKey(k)
		if ok && p != 50 && p != 99 {
			l.Listed = append(l.Listed, Percentile{p, v})
		}
	}
	slices.SortFunc(l.Listed, func(a, b Percentile) int { return cmp.Compare(a.P, b.P) })
	return nil
}

// percentileKey parses "p99.9" (and the old "p999") into its percentile.
func percentileKey(k string) (float64, bool) {
	if k == "p999" {
		return 99.9, true
	}
	s, ok := strings.CutPrefix(k, "p")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseFloat(s, 64)
	return p, err == nil && p > 0 && p < 100
}

// CheckPercentiles is the percentiles key's rule: 1 to MaxPercentiles
// values in (0, 100), ascending, no repeats.
func CheckPercentiles(ps []float64) error {
	if len(ps) == 0 || len(ps) > MaxPercentiles {
		return fmt.Errorf("want 1 to %d percentiles, got %d", MaxPercentiles, len(ps))
	}
	for i, p := range ps {
		if !(p > 0 && p < 100) {
			return fmt.Errorf("%g is out of range (above 0, below 100)", p)
		}
		if i > 0 && p <= ps[i-1] {
			return fmt.Errorf("%g after %g: list them ascending, each once", p, ps[i-1])
		}
	}
	return nil
}
