package report

import (
	"math"
	"strconv"
)

// scale maps a data interval onto a pixel interval, linearly or in log10.
type scale struct {
	d0, d1 float64 // data
	r0, r1 float64 // pixels
	log    bool
}

func (s scale) at(v float64) float64 {
	a, b := s.d0, s.d1
	if s.log {
		v, a, b = math.Log10(math.Max(v, s.d0)), math.Log10(a), math.Log10(b)
	}
	if b == a {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-a)/(b-a)*(s.r1-s.r0)
}

// linearDomain returns a nice [lo, hi] covering the values, from zero when
// zero is wanted, padded when all values are equal, with ticks on it.
func linearDomain(lo, hi float64, fromZero bool) (float64, float64, []float64) {
	if fromZero && lo > 0 {
		lo = 0
	}
	if hi <= lo {
		if hi == 0 {
			hi = 1
		} else {
			lo, hi = math.Min(lo, 0), hi*1.5
		}
	}
	step := niceStep((hi - lo) / 6)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step) * step
	var ticks []float64
	for v := lo; v <= hi+step/2; v += step {
		ticks = append(ticks, clean(v, step))
	}
	return lo, hi, ticks
}

// niceStep rounds a raw step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

// clean removes float noise from a tick (0.30000000000000004 → 0.3).
func clean(v, step float64) float64 {
	digits := int(math.Max(0, -math.Floor(math.Log10(step)))) + 1
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return f
}

// logDomain returns powers of ten around [lo, hi] (lo > 0) and ticks at
// 1, 2 and 5 times each power when the range spans few decades.
func logDomain(lo, hi float64) (float64, float64, []float64) {
	a := math.Pow(10, math.Floor(math.Log10(lo)))
	b := math.Pow(10, math.Ceil(math.Log10(hi)))
	if b <= a {
		b = a * 10
	}
	decades := math.Log10(b / a)
	var ticks []float64
	for p := a; p <= b*1.0001; p *= 10 {
		ticks = append(ticks, p)
		if decades <= 3 && p < b {
			ticks = append(ticks, 2*p, 5*p)
		}
	}
	return a, b, ticks
}

// wantLog says whether values spread over more than 100×, where a linear
// axis would squash all but the largest against zero.
func wantLog(lo, hi float64) bool {
	return lo > 0 && hi/lo > 100
}

// byteDomain is linearDomain in binary units, so ticks land on 100 MiB, not 95.4.
func byteDomain(hi float64) (float64, float64, []float64) {
	unit := 1.0
	for hi/unit >= 1024 {
		unit *= 1024
	}
	_, h, ticks := linearDomain(0, hi/unit, true)
	for i := range ticks {
		ticks[i] *= unit
	}
	return 0, h * unit, ticks
}

// tickBytes labels a byte tick: "256MiB", "1.5GiB".
func tickBytes(v float64) string {
	if v <= 0 {
		return "0"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + units[i]
}

// tickDur labels a duration tick given in seconds: "2ms", "250µs", "1.5s".
func tickDur(v float64) string {
	switch {
	case v <= 0:
		return "0"
	case v >= 1:
		return strconv.FormatFloat(v, 'g', 4, 64) + "s"
	case v >= 1e-3:
		return strconv.FormatFloat(v*1e3, 'g', 4, 64) + "ms"
	case v >= 1e-6:
		return strconv.FormatFloat(v*1e6, 'g', 4, 64) + "µs"
	}
	return strconv.FormatFloat(v*1e9, 'g', 4, 64) + "ns"
}

// tickRate labels a rate tick: "300k", "1.2M", "0.5".
func tickRate(v float64) string {
	switch {
	case v <= 0:
		return "0"
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 4, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
