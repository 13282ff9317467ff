package strategy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/results"
)

// Placement keys (Pinning): `cores:` restricts a pinned cell to a CPU
// list or a core type, `placement: numa` spreads its workers across the
// NUMA nodes. Both are resolved against the Machine at decoding: the
// restricted CPUs are what `threads: 0` and `workers: 0` count and what
// the pinning slots (affinity.go) come from.

// Core type words of `cores:` (results.CoreType names).
const (
	CoresPerformance = "performance"
	CoresEfficiency  = "efficiency"
	// PlacementNUMA is `placement: numa`.
	PlacementNUMA = "numa"
)

// Layout is where a pinned cell's threads run: CPUs in order and, under
// placement: numa, those CPUs grouped by node. The zero Layout means this
// process's allowed CPUs, read when the cell starts.
type Layout struct {
	CPUs  []int
	Nodes [][]int
}

// CPU is the CPU of thread i (0: the worker's own thread, 1… its session's
// pool threads) of worker w, whose session runs threads threads. Slots are
// consecutive (worker w owns slots w·T … w·T+T−1, wrapping over the CPUs);
// under numa worker w goes to node w mod N as that node's (w div N)-th
// worker, its slots taken within the node.
func (l Layout) CPU(w, i, threads int) int {
	t := max(threads, 1)
	if len(l.Nodes) > 1 {
		node := l.Nodes[w%len(l.Nodes)]
		return node[((w/len(l.Nodes))*t+i)%len(node)]
	}
	return l.CPUs[(w*t+i)%len(l.CPUs)]
}

// Layout resolves the placement keys on m: the usable CPUs ∩ cores (a CPU
// list or a core type), grouped by node for numa. The error is a *KeyError.
func (m Machine) Layout(placement, cores string) (Layout, error) {
	if placement != "" && placement != PlacementNUMA {
		return Layout{}, keyErr("placement", "%q: want %s (or leave it out: consecutive CPUs)", placement, PlacementNUMA)
	}
	t := m.Topology
	var usable []int
	if t != nil {
		usable = procfs.ParseCPUList(t.CPUs)
	}
	cpus, err := coreSet(cores, t, usable)
	if err != nil || t == nil {
		return Layout{CPUs: cpus}, err
	}
	l := Layout{CPUs: cpus}
	if placement == PlacementNUMA {
		for _, n := range t.Nodes {
			if in := intersectCPUs(procfs.ParseCPUList(n.CPUs), cpus); len(in) > 0 {
				l.Nodes = append(l.Nodes, in)
			}
		}
	}
	return l, nil
}

// coreSet is the CPUs `cores:` leaves of usable (usable itself for "");
// without a topology a list is taken as given (the pin then fails on a CPU
// the process may not use) and a core type cannot be told.
func coreSet(cores string, t *results.Cores, usable []int) ([]int, error) {
	var want []int
	switch cores {
	case "":
		return usable, nil
	case CoresPerformance, CoresEfficiency:
		var types []string
		if t != nil {
			for _, ct := range t.Types {
				types = append(types, ct.Name)
				if ct.Name == cores {
					want = procfs.ParseCPUList(ct.CPUs)
				}
			}
		}
		if want == nil {
			if len(types) == 0 {
				return nil, keyErr("cores", "%s: this machine has no core types (all its usable CPUs are alike); give a CPU list", cores)
			}
			return nil, keyErr("cores", "%s: none of the usable CPUs are %s cores (types here: %s)", cores, cores, strings.Join(types, ", "))
		}
	default:
		if want = procfs.ParseCPUList(cores); want == nil {
			return nil, keyErr("cores", "%q: want a CPU list (0-3,8), %s or %s", cores, CoresPerformance, CoresEfficiency)
		}
	}
	if t == nil {
		return want, nil
	}
	got := intersectCPUs(usable, want)
	if len(got) == 0 {
		return nil, keyErr("cores", "%q: none of them is usable (usable CPUs: %s)", cores, t.CPUs)
	}
	return got, nil
}

// restrict is m narrowed to the layout's CPUs: the counts automatic keys
// resolve to and the topology the warnings read.
func (m Machine) restrict(l Layout) Machine {
	t := m.Topology
	if t == nil || len(l.CPUs) == 0 {
		return m
	}
	r := *t
	r.CPUs = procfs.FormatCPUList(l.CPUs)
	r.Nodes, r.Types = nil, nil
	for _, n := range t.Nodes {
		if in := intersectCPUs(procfs.ParseCPUList(n.CPUs), l.CPUs); len(in) > 0 {
			n.CPUs = procfs.FormatCPUList(in)
			r.Nodes = append(r.Nodes, n)
		}
	}
	for _, ct := range t.Types {
		if in := intersectCPUs(procfs.ParseCPUList(ct.CPUs), l.CPUs); len(in) > 0 {
			ct.CPUs = procfs.FormatCPUList(in)
			r.Types = append(r.Types, ct)
		}
	}
	m.Topology = &r
	m.LogicalCores = min(m.LogicalCores, len(l.CPUs))
	m.PhysicalCores = min(m.PhysicalCores, physicalAmong(l.CPUs, t.SMTShared))
	return m
}

// physicalAmong counts the physical cores of cpus: SMT siblings (the
// groups of shared, "0,4;1,5") count once.
func physicalAmong(cpus []int, shared string) int {
	n := len(cpus)
	for _, g := range strings.Split(shared, ";") {
		if in := len(intersectCPUs(procfs.ParseCPUList(g), cpus)); in > 1 {
			n -= in - 1
		}
	}
	return n
}

// intersectCPUs is the CPUs of a that b holds, in a's order.
func intersectCPUs(a, b []int) []int {
	var out []int
	for _, c := range a {
		if slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}

// place resolves the cell's placement keys on m at decoding and returns
// the machine its automatic keys count from. Giving cores or placement
// pins the cell: affinity becomes true, unless given false (an error).
func (p *Pinning) place(m Machine, point map[string]any) Machine {
	p.layout, p.err = m.Layout(p.Placement, p.Cores)
	if p.Cores == "" && p.Placement == "" {
		return m
	}
	if a, given := point["affinity"]; given && a == false && p.err == nil {
		key := "cores"
		if p.Cores == "" {
			key = "placement"
		}
		p.err = keyErr(key, "pins the cell's workers, which affinity: false refuses; leave affinity out or make it true")
		return m
	}
	p.Affinity = true
	if p.err != nil {
		return m
	}
	return m.restrict(p.layout)
}

// validate reports what place found wrong.
func (p *Pinning) validate() []error {
	if p.err != nil {
		return []error{p.err}
	}
	return nil
}

// placeWord is what Describe adds for the placement keys.
func (p *Pinning) placeWord() string {
	var w string
	if p.Cores != "" {
		w = fmt.Sprintf(" on cores %s", p.Cores)
	}
	if p.Placement == PlacementNUMA {
		w += ", workers spread across NUMA nodes"
	}
	return w
}

// coresAsText lets `cores: 3` (YAML's number) mean the CPU list "3".
func coresAsText(point map[string]any) map[string]any {
	switch v := point["cores"].(type) {
	case int, int64, uint64:
		p := maps.Clone(point)
		p["cores"] = fmt.Sprint(v)
		return p
	}
	return point
}
