package strategy

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// A one-core quota on a two-core host: 0 resolves to the usable core, -1
// to what ORT will start (the host's two), and the warnings name the trap.
func TestMachineInsideQuota(t *testing.T) {
	m := Machine{LogicalCores: 1, PhysicalCores: 1, Quota: 1, HostPhysicalCores: 2}
	decode := func(threads int) Config {
		t.Helper()
		cfg, err := intraOpDef().Decode(map[string]any{"threads": threads}, DecodeOptions{Batch: 64, Machine: m})
		if err != nil {
			t.Fatal(err)
		}
		if errs := cfg.Validate(); len(errs) > 0 {
			t.Fatal(errs)
		}
		return cfg
	}
	auto := decode(0)
	if got := auto.Shape().Threads; got != 1 || !auto.Common().Facts.AutoResolved("threads") {
		t.Errorf("threads: 0 → %d (facts %+v), want 1", got, auto.Common().Facts)
	}
	if w := m.Warnings(auto); len(w) != 0 {
		t.Errorf("1 thread in a 1-core quota warned: %q", w)
	}
	two := m.Warnings(decode(2))
	if len(two) != 1 || !strings.Contains(two[0], "2 threads wanted under a CPU quota of 1 core") {
		t.Errorf("2 threads: %q", two)
	}
	def := decode(ORTDefaultThreads)
	if def.Shape().Threads != 2 || Params(def).Int("threads") != -1 {
		t.Errorf("threads: -1 → shape %d, param %v", def.Shape().Threads, Params(def).Int("threads"))
	}
	if got := (&Job{Config: def}).sessionOptions(def.Shape().Threads, 1, false).IntraOpThreads; got != 0 {
		t.Errorf("ORT default: session gets %d intra-op threads, want 0 (ORT picks)", got)
	}
	w := strings.Join(m.Warnings(def), "\n")
	if !strings.Contains(w, "oversubscribed") || !strings.Contains(w, "ORT will start 2 threads (the host's physical cores), not the 1-core quota") {
		t.Errorf("ORT default in a quota: %q", w)
	}
	// A fractional quota: 2 threads on 1.5 cores oversubscribe, 1 does not.
	half := Machine{LogicalCores: 2, PhysicalCores: 2, Quota: 1.5}
	if len(half.Warnings(decode(2))) != 1 || len(half.Warnings(decode(1))) != 0 {
		t.Errorf("1.5-core quota: %q / %q", half.Warnings(decode(2)), half.Warnings(decode(1)))
	}
}

func TestTopologyWarnings(t *testing.T) {
	twoNode := &results.Cores{Nodes: []results.NUMANode{{ID: 0, CPUs: "0-3,8-11"}, {ID: 1, CPUs: "4-7,12-15"}}}
	hybrid := &results.Cores{Types: []results.CoreType{{Name: "performance", CPUs: "0-15"}, {Name: "efficiency", CPUs: "16-19"}}}
	cases := []struct {
		topo    *results.Cores
		threads int
		want    string
	}{
		{twoNode, 8, ""},
		{twoNode, 12, "numa: 12 intra-op threads span NUMA nodes (at most 8 usable CPUs in one of 2 nodes)"},
		{hybrid, 16, ""},
		{hybrid, 20, "core types: 20 intra-op threads mix performance and efficiency cores (16 performance CPUs usable)"},
		{nil, 64, ""},
	}
	for _, tc := range cases {
		got := strings.Join(Machine{Topology: tc.topo}.topologyWarnings(tc.threads), "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%d threads: %q, want %q", tc.threads, got, tc.want)
		}
	}
}

// workers: 0 is one worker per usable physical core for the processes
// strategy too, as for goroutines and worker-pool.
func TestWorkersZeroIsAutomatic(t *testing.T) {
	m := Machine{LogicalCores: 3, PhysicalCores: 3, HostPhysicalCores: 8}
	for _, name := range []string{"goroutines", "worker-pool", "processes"} {
		cfg, err := Default()[name].Decode(map[string]any{"workers": 0}, DecodeOptions{Batch: 64, Machine: m})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if errs := cfg.Validate(); len(errs) > 0 || Params(cfg).Int("workers") != 3 || !cfg.Common().Facts.AutoResolved("workers") {
			t.Errorf("%s: workers: 0 → %d (facts %+v, errors %v), want 3", name, Params(cfg).Int("workers"), cfg.Common().Facts, errs)
		}
	}
}
