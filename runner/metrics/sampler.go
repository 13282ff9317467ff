package metrics

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// Mem is one process's memory at one instant. PSS charges each shared page
// to its sharers in proportion and USS counts only private pages, so summing
// them over a process tree shows what is really duplicated, where a sum of
// RSS counts shared pages once per process.
type Mem struct {
	RSS, PSS, USS uint64
}

// ReadMem reads /proc/PID/smaps_rollup; where that is missing (non-Linux,
// old kernels) it falls back to gopsutil's RSS and leaves PSS/USS zero.
func ReadMem(pid int) (Mem, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		p, perr := process.NewProcess(int32(pid))
		if perr != nil {
			return Mem{}, perr
		}
		mi, merr := p.MemoryInfo()
		if merr != nil {
			return Mem{}, merr
		}
		return Mem{RSS: mi.RSS}, nil
	}
	return parseRollup(data), nil
}

func parseRollup(data []byte) Mem {
	var m Mem
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		key := string(line[:i])
		fields := bytes.Fields(line[i+1:])
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "Rss":
			m.RSS = kb * 1024
		case "Pss":
			m.PSS = kb * 1024
		case "Private_Clean", "Private_Dirty":
			m.USS += kb * 1024
		}
	}
	return m
}

// clkTck is USER_HZ, which Linux fixes at 100 for /proc/PID/stat.
const clkTck = 100

// ReadCPU returns a process's user and system CPU seconds from /proc/PID/stat.
func ReadCPU(pid int) (user, sys float64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		p, perr := process.NewProcess(int32(pid))
		if perr != nil {
			return 0, 0, perr
		}
		t, terr := p.Times()
		if terr != nil {
			return 0, 0, terr
		}
		return t.User, t.System, nil
	}
	// The command name may hold spaces; fields restart after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	f := bytes.Fields(data[i+1:])
	if len(f) < 13 {
		return 0, 0, os.ErrInvalid
	}
	ut, _ := strconv.ParseUint(string(f[11]), 10, 64)
	st, _ := strconv.ParseUint(string(f[12]), 10, 64)
	return float64(ut) / clkTck, float64(st) / clkTck, nil
}

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
		m, err := ReadMem(pid)
		if err != nil {
			pids[i] = -1
			continue // a process that just exited
		}
		mems[i] = m
		u, sy, _ := ReadCPU(pid)
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

// Mark takes a sample now and returns its index, so PeakRSSSince can
// bound a stretch of the run (a repetition) by two fresh readings.
func (s *Sampler) Mark() int {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.points) - 1
}

// PeakRSSSince is the largest RSS sum among the samples from index from on.
func (s *Sampler) PeakRSSSince(from int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var peak uint64
	for _, p := range s.points[from:] {
		peak = max(peak, p.Mem.RSS)
	}
	return peak
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
// (VmHWM) so PeakRSS reads the peak of what follows, not of the whole
// process life. It fails quietly where /proc/self/clear_refs is not writable.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// PeakRSS reads this process's VmHWM, the exact peak RSS since start or the
// last ResetPeakRSS; 0 where unavailable.
func PeakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			f := bytes.Fields(line[6:])
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(string(f[0]), 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
