package procfs

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestParseRollup(t *testing.T) {
	m := parseRollup([]byte("00400000-7ffd [rollup]\nRss:  1000 kB\nPss:   600 kB\nPrivate_Clean: 100 kB\nPrivate_Dirty: 300 kB\nShared_Clean: 600 kB\n"))
	if m.RSS != 1000*1024 || m.PSS != 600*1024 || m.USS != 400*1024 {
		t.Fatalf("%+v", m)
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as a process may choose.
	line := "4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 1 0 123 4096 100 18446744073709551615\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != 'S' || st.PPID != 17 || st.User != 2.5 || st.System != 0.31 {
		t.Fatalf("%+v", st)
	}
	for _, bad := range []string{"", "4242 no parens S 1", "4242 (x) S 1 2 3"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseHWM(t *testing.T) {
	if got := parseHWM([]byte("Name:\tx\nVmPeak:\t 900 kB\nVmHWM:\t  512 kB\nVmRSS:\t 100 kB\n")); got != 512*1024 {
		t.Fatalf("VmHWM %d", got)
	}
	if parseHWM([]byte("Name:\tx\n")) != 0 {
		t.Fatal("no VmHWM must read 0")
	}
}

// TestSelfMemorySeesAnAllocation touches 64 MiB of private memory and checks
// that RSS, PSS and USS all grow by about that much.
func TestSelfMemorySeesAnAllocation(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		t.Skip("no smaps_rollup on this system")
	}
	before, err := ReadMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, _ := ReadMem(os.Getpid())
	for name, d := range map[string]int64{"rss": int64(after.RSS) - int64(before.RSS), "pss": int64(after.PSS) - int64(before.PSS), "uss": int64(after.USS) - int64(before.USS)} {
		if d < 60<<20 {
			t.Errorf("%s grew by %d bytes, want ≈ 64 MiB", name, d)
		}
	}
	_ = buf[len(buf)-1]
}

func TestSelfCPUAndPeak(t *testing.T) {
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i ^ (x >> 3)
	}
	_ = x
	if u, s, err := ReadCPU(os.Getpid()); err != nil || u < 0 || s < 0 {
		t.Fatalf("ReadCPU: %v %v %v", u, s, err)
	}
	if ResetPeakRSS() && PeakRSS() == 0 {
		t.Fatal("VmHWM unreadable after reset")
	}
}

// TestTreeAndAlive starts a shell with a child and finds both under it;
// once killed and reaped, the shell no longer reads as alive.
func TestTreeAndAlive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process trees are read from Linux's /proc")
	}
	cmd := exec.Command("sh", "-c", "sleep 30 & wait")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	root := cmd.Process.Pid
	var tree []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if tree = Tree(root); len(tree) >= 2 {
			break
		}
	}
	if len(tree) < 2 || tree[0] != root {
		t.Fatalf("tree of %d: %v, want the shell and its sleep", root, tree)
	}
	child := tree[1]
	if st, err := ReadStat(child); err != nil || st.PPID != root {
		t.Fatalf("child %d: %+v %v", child, st, err)
	}
	if !Alive(root) || !Alive(child) {
		t.Fatal("live processes read as gone")
	}
	if !slices.Contains(Tree(os.Getpid()), child) {
		t.Errorf("the test's own tree lacks its grandchild %d", child)
	}
	if p, err := os.FindProcess(child); err == nil {
		_ = p.Kill()
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if Alive(root) {
		t.Error("a reaped process reads as alive")
	}
	if _, err := ReadMem(-1); err == nil {
		t.Error("ReadMem of no process: no error")
	}
	if _, _, err := ReadCPU(-1); err == nil {
		t.Error("ReadCPU of no process: no error")
	}
}

func TestParseCPUTotalsOn(t *testing.T) {
	stat := []byte("cpu  300 0 30 700 0 0 0 10 0 0\ncpu0 100 0 10 200 0 0 0 0 0 0\ncpu1 200 0 20 500 0 0 0 10 0 0\nintr 1\n")
	got, err := parseCPUTotalsOn(stat, []int{1})
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if err != nil || !near(got.Busy, 220.0/clkTck) || !near(got.Idle, 500.0/clkTck) || !near(got.Steal, 10.0/clkTck) {
		t.Errorf("cpu1: %+v, %v", got, err)
	}
	all, _ := parseCPUTotals(stat)
	both, _ := parseCPUTotalsOn(stat, []int{0, 1})
	if !near(all.Busy, both.Busy) || !near(all.Idle, both.Idle) || !near(all.Steal, both.Steal) {
		t.Errorf("cpu0+cpu1 %+v != cpu %+v", both, all)
	}
	if _, err := parseCPUTotalsOn(stat, []int{7}); err == nil {
		t.Error("cpu7 absent: want an error")
	}
	if a := Affinity(); len(a) == 0 {
		t.Error("no affinity mask read")
	}
}
