package strategy

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ORTDefaultThreads, given for a thread key (`threads: -1`), leaves ORT's
// pool at its own default: ORT sizes it from the host's physical cores,
// blind to a cgroup quota (onnxruntime#29510) — the trap a cell measures.
const ORTDefaultThreads = -1

// resolve fills an automatic key given as 0 with the usable physical cores,
// and an ORT thread key given as -1 with the host's (what ORT itself will
// start), noting which in facts.
func (m Machine) resolve(k Key, f reflect.Value, facts *Facts) {
	switch {
	case f.Int() == 0 && m.PhysicalCores > 0:
		f.SetInt(int64(m.PhysicalCores))
		facts.Auto = append(facts.Auto, k.Name)
	case f.Int() == ORTDefaultThreads && k.ORT && max(m.HostPhysicalCores, m.PhysicalCores) > 0:
		// A machine that does not know the host's count has no quota either.
		f.SetInt(int64(max(m.HostPhysicalCores, m.PhysicalCores)))
		facts.ORTDefault = append(facts.ORTDefault, k.Name)
	}
}

// Warnings are what a cell's config asks of this machine that will not
// measure what it seems to: more threads than the usable cores or the
// quota, ORT's default pool inside a quota, intra-op threads spanning NUMA
// nodes or mixing core types.
func (m Machine) Warnings(cfg Config) []string {
	if p, ok := cfg.(pinner); ok && p.pinning().Cores != "" && p.pinning().err == nil {
		m = m.restrict(p.pinning().layout) // the cell runs on its cores only
	}
	sh := cfg.Shape()
	want := sh.Cores()
	var w []string
	switch {
	case m.Quota > 0 && float64(want) > m.Quota+1e-9:
		w = append(w, fmt.Sprintf("oversubscribed: %d threads wanted under a CPU quota of %s", want, QuotaWord(m.Quota)))
	case m.LogicalCores > 0 && want > m.LogicalCores:
		w = append(w, fmt.Sprintf("oversubscribed: %d threads wanted on %d usable logical cores", want, m.LogicalCores))
	}
	if f := cfg.Common().Facts; len(f.ORTDefault) > 0 && m.Quota > 0 && float64(m.HostPhysicalCores) > m.Quota {
		w = append(w, fmt.Sprintf("%s: -1 leaves ORT's pool at its default: ORT will start %d threads (the host's physical cores), not the %s-core quota; 0 sizes it to the usable cores",
			strings.Join(f.ORTDefault, ", "), m.HostPhysicalCores, Quota(m.Quota)))
	}
	return append(w, m.topologyWarnings(sh.Threads)...)
}

// topologyWarnings: a session's intra-op threads that cannot fit in one
// NUMA node, or in the performance cores, run across the boundary.
func (m Machine) topologyWarnings(threads int) []string {
	t := m.Topology
	if t == nil || threads <= 1 {
		return nil
	}
	var w []string
	if len(t.Nodes) > 1 {
		largest := 0
		for _, n := range t.Nodes {
			largest = max(largest, cpuCount(n.CPUs))
		}
		if threads > largest {
			w = append(w, fmt.Sprintf("numa: %d intra-op threads span NUMA nodes (at most %d usable CPUs in one of %d nodes): each operator waits on remote memory", threads, largest, len(t.Nodes)))
		}
	}
	if len(t.Types) > 1 {
		fast := cpuCount(t.Types[0].CPUs)
		if threads > fast {
			w = append(w, fmt.Sprintf("core types: %d intra-op threads mix %s and %s cores (%d %s CPUs usable): ORT's pool splits work evenly, so the slow cores pace every operator",
				threads, t.Types[0].Name, t.Types[1].Name, fast, t.Types[0].Name))
		}
	}
	return w
}

// Quota writes a quota in cores: "1", "1.5", "0.25".
func Quota(q float64) string { return strconv.FormatFloat(q, 'f', -1, 64) }

// QuotaWord is "1 core", "1.5 cores".
func QuotaWord(q float64) string {
	if q == 1 {
		return "1 core"
	}
	return Quota(q) + " cores"
}

// cpuCount counts a kernel CPU list ("0-3,8").
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, ok := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if ok {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		n += b - a + 1
	}
	return n
}
