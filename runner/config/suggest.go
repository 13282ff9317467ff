package config

import "strings"

// Suggest returns the entry of valid that word was most likely meant to be,
// or "" when none is close: the one at the smallest edit distance
// (insertions, deletions, substitutions and swaps of neighbours, case
// ignored) within about a third of the word's length, else the shortest
// entry that word is a prefix of or that is a prefix of word ("warmup" →
// "warmup_batches"). Ties go to the earlier entry of valid. Used for
// "did you mean …?" hints on unknown keys and strategy names.
func Suggest(word string, valid []string) string {
	w := strings.ToLower(strings.TrimSpace(word))
	if w == "" {
		return ""
	}
	limit := max(1, min(3, len([]rune(w))/3))
	best, bestDist := "", limit+1
	for _, v := range valid {
		lv := strings.ToLower(v)
		if lv == w {
			return v
		}
		if d := distance(w, lv); d < bestDist {
			best, bestDist = v, d
		}
	}
	if best != "" {
		return best
	}
	if len(w) < 3 {
		return ""
	}
	for _, v := range valid {
		lv := strings.ToLower(v)
		if len(lv) < 3 || !(strings.HasPrefix(lv, w) || strings.HasPrefix(w, lv)) {
			continue
		}
		if best == "" || len(v) < len(best) {
			best = v
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// Levenshtein plus transposition of two adjacent characters.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back (for swaps), one back, current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
