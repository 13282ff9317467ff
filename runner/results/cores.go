package results

import "fmt"

// Cores is what a run could use of the machine, beside the host's own
// counts (Environment.LogicalCores, PhysicalCores): the CPUs the affinity
// mask and the cgroup's cpuset both allow, the cgroup's CPU quota, and the
// topology among them. runner/sysinfo fills it; every automatic count,
// oversubscription warning and efficiency reads Usable.
type Cores struct {
	// Usable is how many threads the run can keep busy at once: the allowed
	// CPUs, capped by the quota rounded up (the convention of Go's
	// GOMAXPROCS and the JVM's availableProcessors); at least 1.
	Usable int `json:"usable_cores"`
	// UsablePhysical is the distinct physical cores among the allowed CPUs,
	// capped the same way: what `threads: 0` resolves to.
	UsablePhysical int `json:"usable_physical_cores"`
	// CPUs is the allowed CPU list ("0-3,8"): affinity ∩ cpuset.
	CPUs string `json:"cpus"`
	// Quota is the cgroup's CPU bandwidth limit in cores (1.5 for
	// 150000/100000), 0 when none is in force; QuotaSource names the file.
	Quota       float64 `json:"cpu_quota,omitempty"`
	QuotaSource string  `json:"cpu_quota_source,omitempty"`
	// Cpuset is the cgroup's cpuset where it is narrower than the online
	// CPUs, Affinity the affinity mask where it is.
	Cpuset   string `json:"cpuset,omitempty"`
	Affinity string `json:"affinity,omitempty"`
	// SMTShared lists the physical cores of which more than one sibling is
	// allowed ("0,4;1,5"): threads on them share a core's execution units.
	SMTShared string `json:"smt_shared,omitempty"`
	// Nodes are the NUMA nodes with allowed CPUs.
	Nodes []NUMANode `json:"numa_nodes,omitempty"`
	// Types are the core types among the allowed CPUs (hybrid machines).
	Types []CoreType `json:"core_types,omitempty"`
	// Governor is the cpufreq scaling governor of the allowed CPUs
	// ("performance", "powersave"; "mixed: …" when they differ); Turbo is
	// "on" or "off"; both "" where the kernel does not say (most VMs).
	Governor string `json:"governor,omitempty"`
	Turbo    string `json:"turbo,omitempty"`
}

// NUMANode is one NUMA node: its CPUs (those allowed) and its memory.
type NUMANode struct {
	ID          int    `json:"id"`
	CPUs        string `json:"cpus"`
	MemoryBytes uint64 `json:"memory_bytes"`
}

// CoreType is one kind of core on a hybrid machine: "performance"
// (Intel's cpu_core PMU, or the highest cpu_capacity) or "efficiency"
// (cpu_atom, or a lower capacity), with its allowed CPUs.
type CoreType struct {
	Name string `json:"name"`
	// Source is where sysfs said so: "cpu_core", "cpu_atom" or
	// "cpu_capacity 1024".
	Source string `json:"source"`
	CPUs   string `json:"cpus"`
}

// UsableCores is the usable core count the environment records, or the
// host's logical count for results written before it was recorded.
func (e Environment) UsableCores() int {
	if e.Cores != nil && e.Cores.Usable > 0 {
		return e.Cores.Usable
	}
	return max(e.LogicalCores, 1)
}

// CoreCount is the environment's core count in words for one-line
// headings: "2 cores" when the run could use the whole host, "1 usable of
// 2 cores" when an affinity mask, cpuset or quota narrowed it.
func (e Environment) CoreCount() string {
	if u := e.UsableCores(); e.LogicalCores > 0 && u < e.LogicalCores {
		return fmt.Sprintf("%d usable of %d cores", u, e.LogicalCores)
	}
	if e.LogicalCores <= 1 {
		return "1 core"
	}
	return fmt.Sprintf("%d cores", e.LogicalCores)
}
