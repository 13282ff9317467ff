// Package stats holds the statistics ortbench's runner and tune share.
package stats

// PairedRatios are value(a) ÷ value(b) for every round both sides measured:
// a's repetition in round r over b's in the same round, in a's order. A
// repetition whose round is 0 (not run in interleaved rounds) or whose value
// is not positive pairs with nothing. Pairing by round cancels what the
// machine did during that round, which hit both sides alike.
//
// It is generic over the repetition type so that runner/results may one day
// use it without an import cycle.
func PairedRatios[R any](a, b []R, round func(R) int, value func(R) float64) []float64 {
	byRound := make(map[int]float64, len(b))
	for _, r := range b {
		if n, v := round(r), value(r); n > 0 && v > 0 {
			byRound[n] = v
		}
	}
	var out []float64
	for _, r := range a {
		if v, ok := byRound[round(r)]; ok && value(r) > 0 {
			out = append(out, value(r)/v)
		}
	}
	return out
}
