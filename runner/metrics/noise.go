package metrics

import (
	"time"

	"github.com/ortbench/ortbench/runner/procfs"
)

// NoiseMark is the machine's CPU counters at the start of a stretch of
// time; Since turns it into what other processes did during the stretch.
type NoiseMark struct {
	at   time.Time
	cpu  procfs.CPUTotals
	ok   bool
	cpus []int // the CPUs counted (nil: all)
}

// MarkNoise reads the CPU counters of the CPUs this process may run on
// (its affinity mask, which the kernel narrows to the cgroup's cpuset):
// load on cores the run cannot use does not disturb it.
func MarkNoise() NoiseMark {
	return markNoise(procfs.Affinity())
}

func markNoise(cpus []int) NoiseMark {
	t, err := procfs.ReadCPUTotalsOn(cpus)
	return NoiseMark{at: time.Now(), cpu: t, ok: err == nil, cpus: cpus}
}

// Noise is what other processes did during a stretch.
type Noise struct {
	// OtherCores: the machine's busy CPU time minus own (ortbench's tree
	// during the stretch), ÷ wall time. /proc/stat counts in clock ticks
	// (10 ms), so a stretch should last well over that; it is never < 0.
	OtherCores float64
	// StealCores: hypervisor steal ÷ wall time.
	StealCores float64
	Load1, MHz float64
	Known      bool // false where /proc/stat is unreadable
}

// Since measures the stretch from m to now; own is the CPU time ortbench's
// own processes used in it.
func (m NoiseMark) Since(own CPUTimes) Noise {
	now := markNoise(m.cpus)
	wall := now.at.Sub(m.at).Seconds()
	n := Noise{Load1: procfs.Load1(), MHz: procfs.MeanMHz(), Known: m.ok && now.ok}
	if !n.Known || wall <= 0 {
		return n
	}
	n.OtherCores = max(0, (now.cpu.Busy-m.cpu.Busy-own.Total())/wall)
	n.StealCores = max(0, (now.cpu.Steal-m.cpu.Steal)/wall)
	return n
}

// Disturbed reports whether others took more than threshold cores.
func (n Noise) Disturbed(threshold float64) bool {
	return n.Known && n.OtherCores+n.StealCores > threshold
}
