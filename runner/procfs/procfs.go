// Package procfs is ortbench's one reader of what the kernel says about
// processes: a process's memory (RSS, PSS, USS from /proc/PID/smaps_rollup),
// its CPU time, parent and state (/proc/PID/stat), the tree of processes
// under one (every /proc/PID/stat), and this process's peak RSS (VmHWM in
// /proc/self/status). The runner's sampler (runner/metrics), the worker
// processes (runner/strategy's processes, runner/procpool's tests) and the
// Python runner (runner/pyproc) all read through it.
//
// Every reader is safe for concurrent use: it reads files and keeps no state.
// A process that has exited is an error (or zero), never a panic. Where
// /proc is missing (non-Linux) memory and CPU fall back to gopsutil, a tree
// is its root alone and PeakRSS is 0.
//
// Note: gopsutil alone was rejected for the sampler's hot path: it reads
// /proc/PID/smaps in full (every mapping) for PSS, where smaps_rollup is one
// short file, and it has no USS sum over smaps_rollup.
package procfs

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"

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
	data, err := os.ReadFile(path(pid, "smaps_rollup"))
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

// Stat is what ortbench reads from /proc/PID/stat.
type Stat struct {
	State        byte    // 'R', 'S', 'D', 'Z' (zombie), …
	PPID         int     // the parent's pid
	User, System float64 // CPU seconds, in clock ticks of 10 ms
}

// errFormat is a /proc/PID/stat that does not parse.
var errFormat = errors.New("procfs: malformed stat")

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile(path(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	return parseStat(data)
}

// parseStat parses "pid (comm) state ppid … utime stime …": the command
// name may hold spaces and parentheses, so fields restart after the last ')'.
func parseStat(data []byte) (Stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, errFormat
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 13 || len(f[0]) != 1 {
		return Stat{}, errFormat
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	ut, _ := strconv.ParseUint(string(f[11]), 10, 64)
	st, _ := strconv.ParseUint(string(f[12]), 10, 64)
	return Stat{State: f[0][0], PPID: ppid, User: float64(ut) / clkTck, System: float64(st) / clkTck}, nil
}

// ReadCPU returns a process's user and system CPU seconds from /proc/PID/stat
// (resolution: the kernel's clock tick, 10 ms), or from gopsutil where /proc
// is missing.
func ReadCPU(pid int) (user, sys float64, err error) {
	data, err := os.ReadFile(path(pid, "stat"))
	if err == nil {
		st, err := parseStat(data)
		return st.User, st.System, err
	}
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

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	st, err := ReadStat(pid)
	return err == nil && st.State != 'Z'
}

// Tree returns root and all its descendants, root first, from every
// /proc/PID/stat (the kernel's /proc/PID/task/TID/children is not built
// everywhere). Without /proc it is root alone.
func Tree(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	kids := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		if st, err := ReadStat(pid); err == nil && st.PPID > 0 {
			kids[st.PPID] = append(kids[st.PPID], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, kids[tree[i]]...)
	}
	return tree
}

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
	return parseHWM(data)
}

func parseHWM(data []byte) uint64 {
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

func path(pid int, file string) string {
	return "/proc/" + strconv.Itoa(pid) + "/" + file
}
