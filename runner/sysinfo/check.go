package sysinfo

import (
	"fmt"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Finding is one thing that makes numbers measured here noisy or
// unrepresentative (`sysinfo --check`, after pyperf's `system show`).
type Finding struct {
	Topic, Text string
}

func (f Finding) String() string { return f.Topic + ": " + f.Text }

// Load is what other processes did on the usable CPUs over a window.
type Load struct {
	OtherCores, Load1 float64
	Window            time.Duration
	Known             bool
}

// MeasureLoad measures other processes' load on this process's CPUs over
// window (the run's noise estimate, metrics.MarkNoise).
func MeasureLoad(window time.Duration) Load {
	mark, self := metrics.MarkNoise(), metrics.SelfCPU()
	time.Sleep(window)
	n := mark.Since(metrics.SelfCPU().Sub(self))
	return Load{OtherCores: n.OtherCores + n.StealCores, Load1: procfs.Load1(), Window: window, Known: n.Known}
}

// CheckOptions are what Check judges: the usable cores, the host's
// logical and physical counts, the load measured, and how much other load
// is too much (in cores).
type CheckOptions struct {
	Cores                     results.Cores
	HostLogical, HostPhysical int
	Load                      Load
	LoadThreshold             float64
}

// Check lists the findings, in a fixed order; none is a clean machine.
func Check(o CheckOptions) []Finding {
	c := o.Cores
	var out []Finding
	add := func(topic, format string, args ...any) {
		out = append(out, Finding{topic, fmt.Sprintf(format, args...)})
	}
	if c.Governor != "" && c.Governor != "performance" {
		add("governor", "%s on the usable CPUs: the clock follows the load, so a cell's first moments run slower; for benchmarks set performance (cpupower frequency-set -g performance)", c.Governor)
	}
	if c.Turbo == "on" {
		add("turbo", "on: the clock depends on temperature and on how many cores are busy, so one thread runs faster than each of many; turn it off for repeatable scaling (intel_pstate/no_turbo=1 or cpufreq/boost=0)")
	}
	if c.SMTShared != "" {
		add("smt", "hyper-thread siblings are both usable (%s): threads placed on two siblings share one core's execution units; restrict to one per core (taskset) or turn SMT off (/sys/devices/system/cpu/smt/control)", c.SMTShared)
	}
	if o.Load.Known && o.Load.OtherCores > o.LoadThreshold {
		add("load", "other processes kept %.2f of the %d usable cores busy over %s (load average %.2f): expect noisy numbers", o.Load.OtherCores, c.Usable, o.Load.Window, o.Load.Load1)
	}
	if c.Quota > 0 {
		add("quota", "a cgroup CPU quota of %s is in force (%s): automatic counts use %d of the %d logical cores, and ORT's default pool still starts %d threads",
			strategy.QuotaWord(c.Quota), c.QuotaSource, c.Usable, o.HostLogical, o.HostPhysical)
	}
	if c.Cpuset != "" {
		add("cpuset", "the cgroup allows CPUs %s of the host's %d", c.Cpuset, o.HostLogical)
	}
	if c.Affinity != "" {
		add("affinity", "the affinity mask (taskset, numactl) allows CPUs %s of the host's %d", c.Affinity, o.HostLogical)
	}
	if len(c.Nodes) > 1 {
		parts := make([]string, len(c.Nodes))
		for i, n := range c.Nodes {
			parts[i] = fmt.Sprintf("node %d: %s", n.ID, n.CPUs)
		}
		add("numa", "the usable CPUs span %d NUMA nodes (%s): threads on both reach half the memory remotely; bind the run to one (numactl --cpunodebind=N --membind=N)", len(c.Nodes), strings.Join(parts, "; "))
	}
	if len(c.Types) > 1 {
		add("core types", "%s: a pool spread over both is paced by the slower cores; restrict the run to one type (taskset -c with its CPUs)", TypesText(c.Types))
	}
	return out
}

// TypesText is "performance 0-15 (cpu_core), efficiency 16-19 (cpu_atom)".
func TypesText(types []results.CoreType) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %s (%s)", t.Name, t.CPUs, t.Source)
	}
	return strings.Join(parts, ", ")
}
