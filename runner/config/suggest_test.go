package config

import "testing"

func TestSuggest(t *testing.T) {
	strategies := []string{"sequential", "goroutines", "worker-pool", "pipeline", "intra-op", "inter-op", "hybrid", "processes"}
	keys := []string{"name", "description", "workload", "batch_sizes", "warmup_batches", "repetitions", "min_duration"}
	cases := []struct {
		word  string
		valid []string
		want  string
	}{
		{"goroutine", strategies, "goroutines"},
		{"Goroutines", strategies, "goroutines"},
		{"workerpool", strategies, "worker-pool"},
		{"sequentail", strategies, "sequential"}, // swapped neighbours count once
		{"intraop", strategies, "intra-op"},
		{"threads", strategies, ""},
		{"batch_size", keys, "batch_sizes"},
		{"repetitons", keys, "repetitions"},
		{"warmup", keys, "warmup_batches"}, // a prefix
		{"duration", keys, ""},
		{"x", keys, ""},
		{"", keys, ""},
		{"nmae", keys, "name"},
		{"anything", nil, ""},
	}
	for _, tc := range cases {
		if got := Suggest(tc.word, tc.valid); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"workers", "worker", 1}, {"µs", "ms", 1},
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
