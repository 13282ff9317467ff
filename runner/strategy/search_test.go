package strategy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMakeCanon: a config's canonical form is the strategy its Canon
// names, with the keys it takes; spinning is off where no pool thread
// could spin; the batcher's batches of one request never wait.
func TestMakeCanon(t *testing.T) {
	reg := Default()
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
		params string
	}{
		{"hybrid", map[string]any{"workers": int64(1), "threads": int64(2), "spinning": true, "batch_size": int64(8)}, "intra-op", "threads=2/affinity=false/placement=/cores=/spinning=true/provider=cpu/provider_options=/provider_library=/batch_size=8"},
		{"hybrid", map[string]any{"workers": int64(3), "threads": int64(1), "spinning": true}, "worker-pool", "workers=3/affinity=false/placement=/cores=/spinning=false/provider=cpu/provider_options=/provider_library=/batch_size=0"},
		{"goroutines", map[string]any{"workers": int64(1), "threads": int64(1)}, "intra-op", "threads=1/affinity=false/placement=/cores=/spinning=false/provider=cpu/provider_options=/provider_library=/batch_size=0"},
		{"sequential", map[string]any{"affinity": true}, "intra-op", "threads=1/affinity=true/placement=/cores=/spinning=false/provider=cpu/provider_options=/provider_library=/batch_size=0"},
		{"batcher", map[string]any{"max_batch": int64(1), "max_delay": "4ms", "threads": int64(2)}, "batcher", "workers=1/threads=2/max_batch=1/max_delay=0s/spinning=false/provider=cpu/provider_options=/provider_library=/batch_size=0"},
		{"hybrid", map[string]any{"workers": int64(2), "threads": int64(2), "max_batch": int64(9)}, "hybrid", "workers=2/threads=2/affinity=false/placement=/cores=/spinning=false/provider=cpu/provider_options=/provider_library=/batch_size=0"},
	} {
		name, cfg, err := reg.Make(tc.name, tc.values, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := Params(cfg).Path(); name != tc.want || got != tc.params {
			t.Errorf("Make(%s, %v) = %s %s, want %s %s", tc.name, tc.values, name, got, tc.want, tc.params)
		}
	}
	// Intra-op is hybrid with one worker: tune moves in the wider one.
	_, cfg, _ := reg.Make("intra-op", map[string]any{"threads": int64(4)}, SearchOptions{})
	if wide, keys := GeneralOf("intra-op", cfg); wide != "hybrid" || keys["workers"] != int64(1) || keys["threads"] != int64(4) {
		t.Errorf("GeneralOf(intra-op 4) = %s %v", wide, keys)
	}
	if _, _, err := reg.Make("warp-drive", nil, SearchOptions{}); err == nil || !strings.Contains(err.Error(), "unknown strategy") {
		t.Errorf("unknown strategy: %v", err)
	}
}

// TestCandidates: each search source's values on a machine, ascending.
func TestCandidates(t *testing.T) {
	m := SearchMachine{MaxThreads: 6, Physical: 3, Rows: 100, SLO: 20 * time.Millisecond}
	keys := map[string]SearchKey{}
	for _, k := range Default()["batcher"].SearchKeys() {
		keys[k.Name] = k
	}
	for _, k := range Default()["hybrid"].SearchKeys() {
		keys[k.Name] = k
	}
	for _, tc := range []struct {
		key  string
		want []any
	}{
		{"workers", []any{int64(1), int64(2), int64(4), int64(6)}},
		{"threads", []any{int64(1), int64(2), int64(3)}},
		{"spinning", []any{false, true}},
		{"batch_size", []any{int64(1), int64(4), int64(16), int64(64)}},
		{"max_batch", []any{int64(4), int64(16), int64(64)}},
		{"max_delay", []any{"1ms", "4ms"}},
	} {
		got, err := keys[tc.key].Candidates(m)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v (%v), want %v", tc.key, got, err, tc.want)
		}
	}
	m.Server = true
	if got, _ := keys["batch_size"].Candidates(m); got != nil {
		t.Errorf("server load: batch_size %v, want no axis", got)
	}
	if keys["max_batch"].Rank != 4.5 || keys["workers"].Rank != 4 || !keys["threads"].Cores() || !keys["batch_size"].Batch() {
		t.Errorf("tags: %+v %+v", keys["max_batch"], keys["workers"])
	}
	if _, err := keys["max_delay"].Parse("soon"); err == nil {
		t.Error("max_delay soon: no error")
	}
	if _, err := keys["workers"].Parse(1.5); err == nil {
		t.Error("workers 1.5: no error")
	}
}

// TestTunedOrder: the strategies tune tries by default, in their order.
func TestTunedOrder(t *testing.T) {
	reg := Default()
	type tuned struct {
		name  string
		order int
	}
	var got []tuned
	for _, n := range reg.Names() {
		if tn, ok := reg[n].Tuning(); ok {
			got = append(got, tuned{n, tn.Order})
		}
	}
	slices.SortFunc(got, func(a, b tuned) int { return a.order - b.order })
	var names []string
	for _, g := range got {
		names = append(names, g.name)
	}
	if want := []string{"intra-op", "worker-pool", "hybrid", "goroutines", "batcher", "inter-op"}; !slices.Equal(names, want) {
		t.Errorf("tuned strategies %v, want %v", names, want)
	}
}
