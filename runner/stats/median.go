package stats

import "slices"

// Median is the middle value of xs (the mean of the two middle values for
// an even count); xs is not changed. It panics on an empty xs.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
