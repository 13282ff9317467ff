package procfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// CPUTotals is the machine's CPU time since boot from /proc/stat's "cpu"
// line, in seconds summed over every CPU.
type CPUTotals struct {
	Busy  float64 // user + nice + system + irq + softirq (guest time is inside user)
	Idle  float64 // idle + iowait
	Steal float64 // taken by the hypervisor for other guests
}

func parseCPUTotals(data []byte) (CPUTotals, error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return CPUTotals{}, errors.New("/proc/stat: no cpu line")
	}
	return cpuLine(f), nil
}

// ReadCPUTotalsOn reads /proc/stat (an error where it is missing:
// non-Linux), summed over the given CPUs only (the "cpuN" lines): what other processes do on the cores a run may use,
// leaving out the ones it may not. nil cpus: every CPU.
func ReadCPUTotalsOn(cpus []int) (CPUTotals, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTotals{}, err
	}
	if cpus == nil {
		return parseCPUTotals(data)
	}
	return parseCPUTotalsOn(data, cpus)
}

func parseCPUTotalsOn(data []byte, cpus []int) (CPUTotals, error) {
	var sum CPUTotals
	found := 0
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) < 5 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		n, err := strconv.Atoi(string(f[0][3:]))
		if err != nil || !slices.Contains(cpus, n) {
			continue
		}
		t := cpuLine(f)
		sum.Busy, sum.Idle, sum.Steal = sum.Busy+t.Busy, sum.Idle+t.Idle, sum.Steal+t.Steal
		found++
	}
	if found == 0 {
		return CPUTotals{}, errors.New("/proc/stat: none of the usable CPUs has a line")
	}
	return sum, nil
}

// cpuLine reads one /proc/stat cpu line's fields (in clock ticks).
func cpuLine(f [][]byte) CPUTotals {
	v := make([]float64, 8)
	for i := range v {
		if i+1 < len(f) {
			n, _ := strconv.ParseUint(string(f[i+1]), 10, 64)
			v[i] = float64(n) / clkTck
		}
	}
	user, nice, system, idle, iowait, irq, softirq, steal := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	return CPUTotals{Busy: user + nice + system + irq + softirq, Idle: idle + iowait, Steal: steal}
}

// Load1 is the one-minute load average (run-queue length), 0 where unknown.
func Load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := bytes.Fields(data)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(string(f[0]), 64)
	return v
}

// MeanMHz is the mean current frequency of the CPUs where the kernel
// exposes cpufreq, 0 where it does not (most VMs).
func MeanMHz() float64 {
	files, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq")
	var sum float64
	var n int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		khz, err := strconv.ParseFloat(string(bytes.TrimSpace(data)), 64)
		if err == nil && khz > 0 {
			sum += khz / 1000
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Affinity is the CPUs this process may run on (sched_getaffinity, which
// the kernel narrows to the cgroup's cpuset), in order; nil where it
// cannot be read. The one reader every package uses.
func Affinity() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	cpus := make([]int, 0, set.Count())
	for c := 0; len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}
