package procfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
)

// CPUTotals is the machine's CPU time since boot from /proc/stat's "cpu"
// line, in seconds summed over every CPU.
type CPUTotals struct {
	Busy  float64 // user + nice + system + irq + softirq (guest time is inside user)
	Idle  float64 // idle + iowait
	Steal float64 // taken by the hypervisor for other guests
}

// ReadCPUTotals reads /proc/stat; an error where it is missing (non-Linux).
func ReadCPUTotals() (CPUTotals, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTotals{}, err
	}
	return parseCPUTotals(data)
}

func parseCPUTotals(data []byte) (CPUTotals, error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return CPUTotals{}, errors.New("/proc/stat: no cpu line")
	}
	v := make([]float64, 8)
	for i := range v {
		if i+1 < len(f) {
			n, _ := strconv.ParseUint(string(f[i+1]), 10, 64)
			v[i] = float64(n) / clkTck
		}
	}
	user, nice, system, idle, iowait, irq, softirq, steal := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	return CPUTotals{Busy: user + nice + system + irq + softirq, Idle: idle + iowait, Steal: steal}, nil
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
