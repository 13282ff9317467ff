package sysinfo

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/strategy"
)

// workerCPUs is each worker's threads' CPUs under l.
func workerCPUs(l strategy.Layout, workers, threads int) [][]int {
	out := make([][]int, workers)
	for w := range out {
		for i := range threads {
			out[w] = append(out[w], l.CPU(w, i, threads))
		}
	}
	return out
}

// TestLayoutFixtures: the slot assignment of the placement keys over the
// two-node and hybrid fixtures, read through ReadCores as the live system.
func TestLayoutFixtures(t *testing.T) {
	cases := []struct {
		fixture, placement, cores string
		workers, threads          int
		want                      [][]int
	}{
		// Consecutive slots run worker 1 on node 0 too; numa alternates
		// nodes, the third worker takes node 0's next CPUs.
		{"two-node", "", "", 3, 2, [][]int{{0, 1}, {2, 3}, {4, 5}}},
		{"two-node", "numa", "", 3, 2, [][]int{{0, 1}, {4, 5}, {2, 3}}},
		{"two-node", "numa", "", 4, 3, [][]int{{0, 1, 2}, {4, 5, 6}, {3, 8, 9}, {7, 12, 13}}},
		// cores restricts the slots; numa then spreads over the nodes left.
		{"two-node", "numa", "2-5", 2, 2, [][]int{{2, 3}, {4, 5}}},
		{"two-node", "numa", "0-3", 2, 2, [][]int{{0, 1}, {2, 3}}},
		{"hybrid", "", "performance", 2, 2, [][]int{{0, 1}, {2, 3}}},
		{"hybrid", "", "efficiency", 3, 2, [][]int{{16, 17}, {18, 19}, {16, 17}}},
		{"hybrid", "", "14-17", 2, 1, [][]int{{14}, {15}}},
	}
	for _, tc := range cases {
		m := MachineOf(ReadCores(Source{Root: "testdata/" + tc.fixture}), HostPhysicalCores("testdata/"+tc.fixture))
		l, err := m.Layout(tc.placement, tc.cores)
		if err != nil {
			t.Errorf("%s %s %s: %v", tc.fixture, tc.placement, tc.cores, err)
			continue
		}
		if got := workerCPUs(l, tc.workers, tc.threads); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s placement=%q cores=%q, %d×%d: %v, want %v", tc.fixture, tc.placement, tc.cores, tc.workers, tc.threads, got, tc.want)
		}
	}
}

// TestLayoutErrors: each wrong placement key is one line naming the key.
func TestLayoutErrors(t *testing.T) {
	cases := []struct{ fixture, placement, cores, key, msg string }{
		{"two-node", "", "performance", "cores", "no core types"},
		{"two-node", "", "16-20", "cores", "none of them is usable (usable CPUs: 0-15)"},
		{"two-node", "", "fast", "cores", "want a CPU list"},
		{"two-node", "socket", "", "placement", `"socket": want numa`},
		{"hybrid", "", "efficiency", "", ""}, // fine
	}
	for _, tc := range cases {
		m := MachineOf(ReadCores(Source{Root: "testdata/" + tc.fixture}), 0)
		_, err := m.Layout(tc.placement, tc.cores)
		var ke *strategy.KeyError
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("%s %q %q: %v", tc.fixture, tc.placement, tc.cores, err)
		case tc.key == "":
		case !errors.As(err, &ke) || ke.Key != tc.key || !strings.Contains(ke.Msg, tc.msg) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s %q %q: %v, want %s: …%s…", tc.fixture, tc.placement, tc.cores, err, tc.key, tc.msg)
		}
	}
}

// TestCoresResolveAutomaticCounts: threads: 0 counts the physical cores of
// the restricted set (SMT siblings once), and the cell is pinned.
func TestCoresResolveAutomaticCounts(t *testing.T) {
	m := MachineOf(ReadCores(Source{Root: "testdata/hybrid"}), 12)
	m.PhysicalCores, m.LogicalCores, m.Quota = 12, 20, 0 // the host without the container's quota
	def := strategy.Default()["intra-op"]
	for cores, want := range map[string]int{"performance": 8, "efficiency": 4, "14-17": 3, "0": 1} {
		cfg, err := def.Decode(map[string]any{"threads": 0, "cores": cores}, strategy.DecodeOptions{Batch: 1, Machine: m})
		if err != nil {
			t.Fatal(err)
		}
		if errs := strategy.Validate(cfg); len(errs) > 0 {
			t.Fatalf("cores %s: %v", cores, errs)
		}
		if got := strategy.Params(cfg); got.Int("threads") != want || !strategy.Pinned(cfg) {
			t.Errorf("cores %s: threads %d pinned %v, want %d pinned", cores, got.Int("threads"), strategy.Pinned(cfg), want)
		}
	}
}

// TestPlacementValidation: the decoded cell reports the placement keys'
// problems as key errors; a YAML number is a one-CPU list.
func TestPlacementValidation(t *testing.T) {
	m := MachineOf(ReadCores(Source{Root: "testdata/two-node"}), 8)
	def := strategy.Default()["worker-pool"]
	cases := []struct {
		point    map[string]any
		key, msg string
	}{
		{map[string]any{"workers": 2, "cores": "performance"}, "cores", "no core types"},
		{map[string]any{"workers": 2, "cores": "0-3", "affinity": false}, "cores", "affinity: false refuses"},
		{map[string]any{"workers": 2, "placement": "numa", "affinity": false}, "placement", "affinity: false refuses"},
		{map[string]any{"workers": 2, "placement": "nodes"}, "placement", "want numa"},
		{map[string]any{"workers": 2, "cores": 3}, "", ""},
		{map[string]any{"workers": 2, "placement": "numa", "affinity": true}, "", ""},
	}
	for _, tc := range cases {
		cfg, err := def.Decode(tc.point, strategy.DecodeOptions{Batch: 1, Machine: m})
		if err != nil {
			t.Fatalf("%v: %v", tc.point, err)
		}
		errs := strategy.Validate(cfg)
		var ke *strategy.KeyError
		switch {
		case tc.key == "" && len(errs) > 0:
			t.Errorf("%v: %v", tc.point, errs)
		case tc.key == "":
			if !strategy.Pinned(cfg) {
				t.Errorf("%v: not pinned", tc.point)
			}
		case len(errs) != 1 || !errors.As(errs[0], &ke) || ke.Key != tc.key || !strings.Contains(ke.Msg, tc.msg):
			t.Errorf("%v: %v, want %s: …%s…", tc.point, errs, tc.key, tc.msg)
		}
	}
}

// TestCoresWarnings: the oversubscription warning counts the cell's cores.
func TestCoresWarnings(t *testing.T) {
	m := MachineOf(ReadCores(Source{Root: "testdata/biglittle"}), 8)
	cfg, err := strategy.Default()["intra-op"].Decode(map[string]any{"threads": 4, "cores": "4-5"}, strategy.DecodeOptions{Batch: 1, Machine: m})
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(m.Warnings(cfg), "\n"); !strings.Contains(w, "oversubscribed: 4 threads wanted on 2 usable logical cores") {
		t.Errorf("warnings: %q", w)
	}
}
