package sysinfo

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Usable cores, one definition: the CPUs both the affinity mask
// (sched_getaffinity) and the cgroup's cpuset allow, capped by the
// cgroup's CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us ÷ cpu.cfs_period_us,
// the smallest on the way up to the hierarchy's root), with the physical
// cores, SMT siblings, NUMA nodes and core types among them.
//
// Everything is read below a root directory: "/" for the live system, a
// fixture tree (testdata/) in tests, through the same code.
//
// Note: the kernel already narrows the affinity mask to the cpuset, so the
// intersection only matters where a process widened nothing; it is taken
// anyway because a fixture (or a container runtime that sets the mask
// after the cpuset) may disagree, and the cpuset is shown on its own.

// Source is where ReadCores looks: Root holds proc/ and sys/ as the live
// system does; Affinity is the affinity mask (nil: every online CPU).
type Source struct {
	Root     string
	Affinity []int
}

// LiveCores reads this process's usable cores from the live system.
func LiveCores() results.Cores {
	return ReadCores(Source{Root: "/", Affinity: procfs.Affinity()})
}

// ReadCores reads the usable cores below src.Root. Missing files leave
// their part empty: a machine without cgroups has no quota.
func ReadCores(src Source) results.Cores {
	fs := rootFS(src.Root)
	online := procfs.ParseCPUList(fs.read("sys/devices/system/cpu/online"))
	if len(online) == 0 {
		online = seq(runtime.NumCPU())
	}
	cg := fs.cgroups()
	cpus := online
	var c results.Cores
	if a := intersect(online, src.Affinity); src.Affinity != nil && len(a) > 0 {
		if len(a) < len(online) {
			c.Affinity = procfs.FormatCPUList(a)
		}
		cpus = a
	}
	if set := cg.cpuset(); len(set) > 0 {
		if len(set) < len(online) {
			c.Cpuset = procfs.FormatCPUList(set)
		}
		if in := intersect(cpus, set); len(in) > 0 {
			cpus = in
		}
	}
	c.CPUs = procfs.FormatCPUList(cpus)
	c.Quota, c.QuotaSource = cg.quota()
	siblings := fs.siblings(cpus)
	c.Usable, c.UsablePhysical = capQuota(len(cpus), c.Quota), capQuota(len(siblings), c.Quota)
	c.SMTShared = sharedSiblings(siblings)
	c.Nodes = fs.numaNodes(cpus)
	c.Types = fs.coreTypes(cpus)
	c.Governor = fs.governor(cpus)
	c.Turbo = fs.turbo()
	return c
}

// HostPhysicalCores counts the distinct physical cores among the online
// CPUs below root: what ONNX Runtime sizes its default pool from.
func HostPhysicalCores(root string) int {
	fs := rootFS(root)
	return len(fs.siblings(procfs.ParseCPUList(fs.read("sys/devices/system/cpu/online"))))
}

// capQuota caps n CPUs by a quota in cores, rounded up; at least 1.
func capQuota(n int, quota float64) int {
	if quota > 0 {
		n = min(n, int(math.Ceil(quota-1e-9)))
	}
	return max(n, 1)
}

// rootFS reads files below a root directory.
type rootFS string

func (r rootFS) path(rel string) string { return filepath.Join(string(r), rel) }

// read is a file's trimmed text, "" where it cannot be read.
func (r rootFS) read(rel string) string {
	b, err := os.ReadFile(r.path(rel))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// siblings groups cpus by physical core (each CPU's
// topology/thread_siblings_list), in the order of their first CPU.
func (r rootFS) siblings(cpus []int) [][]int {
	var keys []string
	groups := map[string][]int{}
	for _, c := range cpus {
		k := r.read("sys/devices/system/cpu/cpu" + strconv.Itoa(c) + "/topology/thread_siblings_list")
		if k == "" {
			k = "cpu" + strconv.Itoa(c) // no topology: count each CPU as a core
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
	}
	out := make([][]int, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// sharedSiblings lists the cores of which more than one sibling is allowed.
func sharedSiblings(groups [][]int) string {
	var parts []string
	for _, g := range groups {
		if len(g) > 1 {
			parts = append(parts, procfs.FormatCPUList(g))
		}
	}
	return strings.Join(parts, ";")
}

// numaNodes lists the NUMA nodes holding allowed CPUs, with their memory
// (nodeN/meminfo's "Node N MemTotal: … kB").
func (r rootFS) numaNodes(cpus []int) []results.NUMANode {
	dirs, _ := filepath.Glob(r.path("sys/devices/system/node/node[0-9]*"))
	var nodes []results.NUMANode
	for _, d := range dirs {
		id, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "node"))
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(string(r), d)
		in := intersect(procfs.ParseCPUList(r.read(rel+"/cpulist")), cpus)
		if len(in) == 0 {
			continue
		}
		nodes = append(nodes, results.NUMANode{ID: id, CPUs: procfs.FormatCPUList(in), MemoryBytes: memTotal(r.read(rel + "/meminfo"))})
	}
	slices.SortFunc(nodes, func(a, b results.NUMANode) int { return a.ID - b.ID })
	return nodes
}

// memTotal reads "Node 0 MemTotal:  16316412 kB" from a node's meminfo.
func memTotal(meminfo string) uint64 {
	for _, line := range strings.Split(meminfo, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == "MemTotal:" {
			kb, _ := strconv.ParseUint(f[3], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// coreTypes reads a hybrid machine's core types: Intel's PMUs
// /sys/devices/cpu_core/cpus and cpu_atom/cpus, else the CPUs'
// cpu_capacity (ARM big.LITTLE: the highest capacity is "performance").
// nil for a machine with one kind of core.
func (r rootFS) coreTypes(cpus []int) []results.CoreType {
	var types []results.CoreType
	for _, pmu := range []struct{ dir, name string }{{"cpu_core", "performance"}, {"cpu_atom", "efficiency"}} {
		if in := intersect(procfs.ParseCPUList(r.read("sys/devices/"+pmu.dir+"/cpus")), cpus); len(in) > 0 {
			types = append(types, results.CoreType{Name: pmu.name, Source: pmu.dir, CPUs: procfs.FormatCPUList(in)})
		}
	}
	if len(types) > 0 {
		return types
	}
	byCap := map[int][]int{}
	for _, c := range cpus {
		if v, err := strconv.Atoi(r.read("sys/devices/system/cpu/cpu" + strconv.Itoa(c) + "/cpu_capacity")); err == nil {
			byCap[v] = append(byCap[v], c)
		}
	}
	if len(byCap) < 2 {
		return nil
	}
	caps := make([]int, 0, len(byCap))
	for v := range byCap {
		caps = append(caps, v)
	}
	slices.Sort(caps)
	slices.Reverse(caps)
	for i, v := range caps {
		name := "efficiency"
		if i == 0 {
			name = "performance"
		}
		types = append(types, results.CoreType{Name: name, Source: "cpu_capacity " + strconv.Itoa(v), CPUs: procfs.FormatCPUList(byCap[v])})
	}
	return types
}

// governor is the allowed CPUs' scaling governor, "mixed: a, b" when they
// differ, "" where cpufreq is absent.
func (r rootFS) governor(cpus []int) string {
	var seen []string
	for _, c := range cpus {
		g := r.read("sys/devices/system/cpu/cpu" + strconv.Itoa(c) + "/cpufreq/scaling_governor")
		if g != "" && !slices.Contains(seen, g) {
			seen = append(seen, g)
		}
	}
	if len(seen) > 1 {
		return "mixed: " + strings.Join(seen, ", ")
	}
	return strings.Join(seen, "")
}

// turbo is "on" or "off" from intel_pstate's no_turbo or cpufreq's boost,
// "" where neither exists.
func (r rootFS) turbo() string {
	switch r.read("sys/devices/system/cpu/intel_pstate/no_turbo") {
	case "0":
		return "on"
	case "1":
		return "off"
	}
	switch r.read("sys/devices/system/cpu/cpufreq/boost") {
	case "1":
		return "on"
	case "0":
		return "off"
	}
	return ""
}

// intersect is the CPUs in both sorted lists.
func intersect(a, b []int) []int {
	var out []int
	for _, c := range a {
		if slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// DetectMachine is what a plan is expanded for on this machine: its usable
// cores (automatic counts, oversubscription), its quota and topology.
func DetectMachine() strategy.Machine { return MachineOf(LiveCores(), HostPhysicalCores("/")) }

// MachineOf is the strategy.Machine of usable cores c on a host with
// hostPhysical physical cores.
func MachineOf(c results.Cores, hostPhysical int) strategy.Machine {
	return strategy.Machine{
		LogicalCores: c.Usable, PhysicalCores: c.UsablePhysical,
		Quota: c.Quota, HostPhysicalCores: hostPhysical, Topology: &c,
	}
}
