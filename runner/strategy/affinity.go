package strategy

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ortbench/ortbench/runner/procfs"
)

// Pinning (the `affinity: true` key). A cell's workers take consecutive
// "slots": worker w, running T intra-op threads, owns slots w·T … w·T+T−1;
// slot s is the (s mod N)-th CPU of the cell's Layout (placement.go: the
// CPUs this process may run on, narrowed by `cores:`, by node under
// `placement: numa`). The worker's own
// goroutine (the thread that calls Run, which ORT uses as the first
// intra-op thread) is pinned to its first slot, and ORT's T−1 pool threads
// to the others through the session option
// session.intra_op_thread_affinities. A worker process is pinned, all its
// threads, to its slots.
//
// Note: pinning a goroutine means locking it to its OS thread; the pinned
// goroutines exit at the end of each pass without unlocking, so the Go
// runtime retires those threads and no other goroutine inherits their
// affinity.

// allowedCPUs lists the CPUs this process may run on, in order (every
// CPU where the mask cannot be read).
func allowedCPUs() []int {
	if cpus := procfs.Affinity(); len(cpus) > 0 {
		return cpus
	}
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// layout is the job's Layout, the allowed CPUs filled in where decoding
// left them (no Machine).
func (j *Job) layout() Layout {
	var l Layout
	if p, ok := j.Config.(pinner); ok {
		l = p.pinning().layout
	}
	if len(l.CPUs) == 0 {
		l.CPUs = allowedCPUs()
	}
	return l
}

// pinThread locks the calling goroutine to its OS thread and pins that
// thread to cpu. The goroutine must not unlock: see the note.
func pinThread(cpu int) error {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("affinity: pinning a worker thread to CPU %d: %w", cpu, err)
	}
	return nil
}

// pinProcess pins every thread of process pid to worker w's CPUs (its
// threads slots).
func pinProcess(pid int, l Layout, w, threads int) error {
	var set unix.CPUSet
	for i := range max(threads, 1) {
		set.Set(l.CPU(w, i, threads))
	}
	tasks, err := readDirNames(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return unix.SchedSetaffinity(pid, &set)
	}
	for _, tid := range tasks {
		if id, err := strconv.Atoi(tid); err == nil {
			if err := unix.SchedSetaffinity(id, &set); err != nil {
				return fmt.Errorf("affinity: pinning process %d: %w", pid, err)
			}
		}
	}
	return nil
}

// intraOpAffinity is ORT's session.intra_op_thread_affinities value for
// worker w's session, whose calling thread holds the worker's first slot
// and whose threads−1 pool threads take the next: one entry per pool
// thread, separated by ";", each a 1-based logical processor id. "" for
// one thread.
func intraOpAffinity(l Layout, w, threads int) string {
	if threads <= 1 {
		return ""
	}
	parts := make([]string, threads-1)
	for i := range parts {
		parts[i] = strconv.Itoa(l.CPU(w, 1+i, threads) + 1)
	}
	return strings.Join(parts, ";")
}

// readDirNames lists a directory's names (the threads of a process).
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
