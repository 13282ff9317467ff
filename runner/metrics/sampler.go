package metrics

import (
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ortbench/ortbench/runner/procfs"
)

// Mem is one process's memory at one instant (RSS, PSS, USS), as package
// procfs reads it.
type Mem = procfs.Mem

// Point is one sample of the whole process tree.
type Point struct {
	At         time.Duration
	Mem        Mem // summed over processes
	CPUSeconds float64
	Processes  int
}

// Sampler samples memory and CPU of a set of processes on a ticker, in its
// own goroutine, so the measured goroutines never wait on it.
type Sampler struct {
	pids     func() []int
	interval time.Duration
	start    time.Time
	stop     chan struct{}
	done     sync.WaitGroup

	mu     sync.Mutex
	points []Point
	peak   Mem // per-field maximum of the sums
	procs  int
	perPID map[int]Mem // per-field maximum of each process
}

// StartSampler samples the processes pids returns every interval until Stop.
func StartSampler(interval time.Duration, pids func() []int) *Sampler {
	s := &Sampler{pids: pids, interval: interval, start: time.Now(), stop: make(chan struct{}), perPID: map[int]Mem{}}
	s.sample()
	s.done.Add(1)
	go s.loop()
	return s
}

func (s *Sampler) loop() {
	defer s.done.Done()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sample()
		}
	}
}

func (s *Sampler) sample() {
	var p Point
	pids := s.pids()
	mems := make([]Mem, len(pids))
	for i, pid := range pids {
		m, err := procfs.ReadMem(pid)
		if err != nil {
			pids[i] = -1
			continue // a process that just exited
		}
		mems[i] = m
		u, sy, _ := procfs.ReadCPU(pid)
		p.Mem.RSS += m.RSS
		p.Mem.PSS += m.PSS
		p.Mem.USS += m.USS
		p.CPUSeconds += u + sy
		p.Processes++
	}
	p.At = time.Since(s.start)
	s.mu.Lock()
	for i, pid := range pids {
		if pid >= 0 {
			q := s.perPID[pid]
			s.perPID[pid] = Mem{RSS: max(q.RSS, mems[i].RSS), PSS: max(q.PSS, mems[i].PSS), USS: max(q.USS, mems[i].USS)}
		}
	}
	s.points = append(s.points, p)
	s.peak.RSS = max(s.peak.RSS, p.Mem.RSS)
	s.peak.PSS = max(s.peak.PSS, p.Mem.PSS)
	s.peak.USS = max(s.peak.USS, p.Mem.USS)
	s.procs = max(s.procs, p.Processes)
	s.mu.Unlock()
}

// Stop takes a last sample and returns the timeline and the per-field peaks.
func (s *Sampler) Stop() (points []Point, peak Mem, processes int) {
	close(s.stop)
	s.done.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points, s.peak, s.procs
}

// ProcessPeak is one process's peak memory over the sampled run.
type ProcessPeak struct {
	PID int
	Mem Mem // per-field maximum
}

// PerProcess returns each sampled process's peaks, by PID. Call after Stop.
func (s *Sampler) PerProcess() []ProcessPeak {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProcessPeak, 0, len(s.perPID))
	for pid, m := range s.perPID {
		out = append(out, ProcessPeak{PID: pid, Mem: m})
	}
	slices.SortFunc(out, func(a, b ProcessPeak) int { return a.PID - b.PID })
	return out
}

// Self returns this process's pid, for in-process strategies.
func Self() []int { return []int{os.Getpid()} }

// ResetPeakRSS resets the kernel's high-water mark of this process's RSS
// so PeakRSS reads the peak of what follows (procfs.ResetPeakRSS). The
// reset also lowers the peak that getrusage and `/usr/bin/time -v` report,
// so the mark is read first and kept: RunPeakRSS is the whole run's peak.
func ResetPeakRSS() bool {
	keepPeak(procfs.PeakRSS())
	return procfs.ResetPeakRSS()
}

// runPeak is the largest VmHWM seen before any reset.
var runPeak atomic.Uint64

func keepPeak(v uint64) {
	for {
		old := runPeak.Load()
		if v <= old || runPeak.CompareAndSwap(old, v) {
			return
		}
	}
}

// RunPeakRSS is this process's peak RSS over its whole life: the largest
// high-water mark read before each ResetPeakRSS, or the current one.
// Safe for concurrent use.
func RunPeakRSS() uint64 {
	keepPeak(procfs.PeakRSS())
	return runPeak.Load()
}

// PeakRSS is this process's exact peak RSS since start or the last
// ResetPeakRSS; 0 where unavailable (procfs.PeakRSS).
func PeakRSS() uint64 { return procfs.PeakRSS() }
