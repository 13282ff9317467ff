package metrics

import (
	"syscall"

	"github.com/ortbench/ortbench/runner/procfs"
)

// CPUTimes is user and system CPU seconds.
type CPUTimes struct{ User, System float64 }

// SelfCPU reads this process's CPU time (all threads, ORT's pools included)
// from getrusage, exact to the microsecond.
func SelfCPU() CPUTimes {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return CPUTimes{}
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return CPUTimes{User: tv(ru.Utime), System: tv(ru.Stime)}
}

// Sub returns t − u.
func (t CPUTimes) Sub(u CPUTimes) CPUTimes { return CPUTimes{t.User - u.User, t.System - u.System} }

// Total is user + system.
func (t CPUTimes) Total() float64 { return t.User + t.System }

// Add returns t + u.
func (t CPUTimes) Add(u CPUTimes) CPUTimes { return CPUTimes{t.User + u.User, t.System + u.System} }

// TreeCPU sums the CPU time of other processes (worker processes) from
// /proc (procfs.ReadCPU). Its resolution is the kernel's clock tick (10 ms), so strategies
// that use it should run passes much longer than that.
func TreeCPU(pids []int) CPUTimes {
	var t CPUTimes
	for _, pid := range pids {
		u, s, err := procfs.ReadCPU(pid)
		if err == nil {
			t.User += u
			t.System += s
		}
	}
	return t
}
