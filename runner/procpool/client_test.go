package procpool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/workload"
)

// helperEnv makes the test binary, started by a test, play a part instead
// of running the tests: "worker" serves the protocol (the standard re-exec
// trick; the real binary's hidden worker subcommand calls the same
// ServeFDs), the others are props for the fault and memory tests.
const helperEnv = "PROCPOOL_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	name, arg, _ := strings.Cut(mode, ":")
	switch name {
	case "worker":
		if err := ServeFDs(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 1
		}
		return 0
	case "alloc": // touch arg MiB of private memory, say so, wait
		mib, _ := strconv.Atoi(arg)
		b := make([]byte, mib<<20)
		for i := range b {
			b[i] = byte(i)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		runtime.KeepAlive(b) // the pages stay touched until the test reads them
		return 0
	case "map": // map the file arg, touch every page, say so, wait
		m, err := mapFile(arg)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		var sum byte
		for i := 0; i < len(m); i += 4096 {
			sum += m[i]
		}
		fmt.Println("ready", sum)
		time.Sleep(time.Minute)
		return 0
	case "spawner": // start two workers, print their pids, wait to be killed
		for i := range 2 {
			c, err := Spawn(context.Background(), workerCommand(), heavyStart(i, TransportCopy, 100, 1), 30*time.Second)
			if err != nil {
				fmt.Println(err)
				return 1
			}
			fmt.Println(c.PID())
		}
		time.Sleep(time.Minute)
		return 0
	}
	return 3
}

// workerCommand runs this test binary as a worker. The environment tells
// it so; the tests' own process never has helperEnv set.
func workerCommand() []string {
	return []string{"/usr/bin/env", helperEnv + "=worker", os.Args[0], "-test.run=^$"}
}

func heavyStart(id int, transport string, rows, batch int) StartMsg {
	return StartMsg{Worker: id, Workload: workload.Remote{Kind: "heavy-task", RecordBytes: 4, Cost: 2000}, Options: onnx.DefaultOptions(),
		Rows: rows, BatchSize: batch, Transport: transport}
}

func heavyData(rows int) []byte {
	d := make([]float32, rows)
	for i := range d {
		d[i] = float32(i)
	}
	return raw.Bytes(d)
}

func waitGone(t *testing.T, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for procfs.Alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d is still alive", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func spawnHeavy(t *testing.T, transport string, rows, batch int) (*Client, StartMsg, []byte) {
	t.Helper()
	data := heavyData(rows)
	start := heavyStart(0, transport, rows, batch)
	if transport == TransportShared {
		path, err := WriteShared(t.TempDir(), data, rows, 4)
		if err != nil {
			t.Fatal(err)
		}
		start.SharedPath = path
	}
	c, err := Spawn(context.Background(), workerCommand(), start, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Kill(); waitGone(t, c.PID()) })
	return c, start, data
}

func TestWorkerRoundTrip(t *testing.T) {
	for _, transport := range []string{TransportCopy, TransportShared} {
		t.Run(transport, func(t *testing.T) {
			const rows, batch = 103, 10
			c, _, data := spawnHeavy(t, transport, rows, batch)
			if c.Ready.PID != c.PID() || len(c.Ready.Layout) != 1 {
				t.Fatalf("ready: %+v", c.Ready)
			}
			out := workload.NewOutputs(c.Ready.Layout, rows, batch)
			for i := range workload.Batches(rows, batch) {
				first, n := workload.Span(i, batch, rows)
				if _, err := c.Run(i, first, n, data[first*4:(first+n)*4], out, 10*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			for i, v := range out.I64[0] {
				if want := int64(workload.HeavyItem(uint64(i), 2000)); v != want {
					t.Fatalf("row %d: got %d want %d", i, v, want)
				}
			}
			if err := c.Stop(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := c.Exited(); !ok {
				t.Fatal("stopped worker not reaped")
			}
		})
	}
}

func TestWorkerKilledMidTask(t *testing.T) {
	const rows = 4
	// A task long enough to be killed in the middle of.
	start := heavyStart(3, TransportCopy, rows, rows)
	start.Workload.Cost = 2_000_000_000
	c2, err := Spawn(context.Background(), workerCommand(), start, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Kill()
	out := workload.NewOutputs(c2.Ready.Layout, rows, rows)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(c2.PID(), syscall.SIGKILL)
	}()
	_, err = c2.Run(0, 0, rows, heavyData(rows), out, time.Minute)
	if err == nil {
		t.Fatal("a killed worker's task succeeded")
	}
	for _, want := range []string{"worker 3", fmt.Sprintf("pid %d", c2.PID()), "killed by signal 9", "batch 0 (rows 0..3)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	waitGone(t, c2.PID())
}

func TestWorkerTimeout(t *testing.T) {
	const rows = 4
	c, _, data := spawnHeavy(t, TransportShared, rows, rows)
	// A stopped process never answers: the task timeout must catch it.
	if err := syscall.Kill(c.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The stop lands when the kernel next runs the worker: wait until it is
	// stopped, so the task below cannot be answered before it does.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st, err := procfs.ReadStat(c.PID()); err == nil && st.State == 'T' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not stop")
		}
	}
	out := workload.NewOutputs(c.Ready.Layout, rows, rows)
	t0 := time.Now()
	_, err := c.Run(0, 0, rows, data, out, 300*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "batch 0") {
		t.Fatalf("got %v, want a timeout naming the batch", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	waitGone(t, c.PID())
}

func TestWorkerInterrupt(t *testing.T) {
	start := heavyStart(0, TransportCopy, 4, 4)
	start.Workload.Cost = 2_000_000_000
	c, err := Spawn(context.Background(), workerCommand(), start, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	go func() { time.Sleep(200 * time.Millisecond); c.Interrupt() }()
	out := workload.NewOutputs(c.Ready.Layout, 4, 4)
	if _, err := c.Run(0, 0, 4, heavyData(4), out, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	waitGone(t, c.PID())
}

// TestMalformedToWorker: a worker that gets a frame it cannot parse says so
// on its result pipe and exits non-zero; it does not skip it.
func TestMalformedToWorker(t *testing.T) {
	cases := map[string][]byte{
		"bad header": {1, 0, 0, 0, 3, 9, 0, 0, 0},
		"bad task":   {2, 0, 0, 0, byte(MsgTask), Version, 0, 0, 1, 2},
		"bad type":   {0, 0, 0, 0, byte(MsgReady), Version, 0, 0},
		"bad arrow":  append([]byte{24, 0, 0, 0, byte(MsgTask), Version, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte("garbage!")...),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, _ := spawnHeavy(t, TransportCopy, 4, 4)
			if _, err := c.toW.Write(frame); err != nil {
				t.Fatal(err)
			}
			_ = c.fromW.SetReadDeadline(time.Now().Add(10 * time.Second))
			typ, p, err := c.read()
			if err != nil || typ != MsgError || !strings.Contains(string(p), "malformed") {
				t.Fatalf("got %v %q %v, want an error message saying malformed", typ, p, err)
			}
			<-c.waited
			if c.state.ExitCode() != 1 {
				t.Fatalf("worker exited %s, want status 1", c.state)
			}
		})
	}
}

// TestMalformedFromWorker: a result the parent cannot decode fails the task
// loudly and kills the worker.
func TestMalformedFromWorker(t *testing.T) {
	c, _, data := spawnHeavy(t, TransportCopy, 4, 4)
	// Replace the worker's answer by garbage: decode a result frame whose
	// IPC bytes are corrupt, as Run would.
	enc := NewResultEncoder(c.Ready.Layout)
	local := workload.NewOutputs(c.Ready.Layout, 4, 4)
	frame, _ := enc.Encode(ResultHeader{Batch: 0, Rows: 4}, local)
	_, p, _, _ := ReadFrame(strings.NewReader(string(frame)), nil)
	h, body, _ := ParseResult(p)
	body = slices.Clone(body)
	body[len(body)-40] ^= 0xff
	body = body[:len(body)-16]
	out := workload.NewOutputs(c.Ready.Layout, 4, 4)
	if err := c.dec.Decode(h, body, 0, out); !errors.Is(err, ErrMalformed) {
		t.Fatalf("corrupt result: %v", err)
	}
	// And through Run: a batch header the worker does not expect.
	if _, err := c.Run(0, 0, 5, append(data, 0, 0, 128, 63), workload.NewOutputs(c.Ready.Layout, 5, 5), 10*time.Second); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("oversized batch: %v", err)
	}
	waitGone(t, c.PID())
}

// TestNoOrphans kills a parent with SIGKILL (no chance to clean up) and
// requires its workers to die with it.
func TestNoOrphans(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=spawner")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	var pids []int
	for len(pids) < 2 && sc.Scan() {
		pid, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("spawner: %s", sc.Text())
		}
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		if !procfs.Alive(pid) {
			t.Fatalf("worker %d not running before the kill", pid)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pids...)
}

// mappingMem reads the Rss and Pss of pid's mapping of path from
// /proc/PID/smaps: the test's own oracle, independent of procfs's
// smaps_rollup that it checks.
func mappingMem(t *testing.T, pid int, path string) procfs.Mem {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var m procfs.Mem
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = f[len(f)-1] == path
		case in && len(f) == 3 && (f[0] == "Rss:" || f[0] == "Pss:"):
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			if f[0] == "Rss:" {
				m.RSS += kb << 10
			} else {
				m.PSS += kb << 10
			}
		}
	}
	return m
}

func startHelper(t *testing.T, mode string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "ready") {
		t.Fatalf("helper %s: %q", mode, sc.Text())
	}
	return cmd.Process.Pid
}

// TestMemoryAccounting checks what the runner's sampler reports for process
// trees: private memory shows in USS and PSS; a file mapped by N processes
// counts N times in the sum of RSS but once in the sum of PSS.
func TestMemoryAccounting(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		t.Skip("needs /proc/PID/smaps_rollup")
	}
	const mib = 64
	idle := startHelper(t, "alloc:0")
	base, err := procfs.ReadMem(idle)
	if err != nil {
		t.Fatal(err)
	}
	private := startHelper(t, fmt.Sprintf("alloc:%d", mib))
	m, err := procfs.ReadMem(private)
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(m.USS) - int64(base.USS); got < mib<<20*9/10 {
		t.Errorf("USS grew by %d MiB for %d MiB touched", got>>20, mib)
	}
	if got := int64(m.PSS) - int64(base.PSS); got < mib<<20*9/10 {
		t.Errorf("PSS grew by %d MiB for %d MiB touched", got>>20, mib)
	}

	path := filepath.Join(datasets.SharedDir(), fmt.Sprintf("ortbench-memtest-%d", os.Getpid()))
	if err := os.WriteFile(path, make([]byte, mib<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	const n = 4
	var pids []int
	for range n {
		pids = append(pids, startHelper(t, "map:"+path))
	}
	var sum, mapped procfs.Mem
	for _, pid := range pids { // all mapped now: each shares the pages with the others
		m, err := procfs.ReadMem(pid)
		if err != nil {
			t.Fatal(err)
		}
		sum.RSS += m.RSS
		sum.PSS += m.PSS
		mm := mappingMem(t, pid, path)
		mapped.RSS += mm.RSS
		mapped.PSS += mm.PSS
	}
	t.Logf("%d processes mapping %d MiB: the mapping's RSS sum %d MiB, PSS sum %d MiB; whole processes: RSS sum %d MiB, PSS sum %d MiB",
		n, mib, mapped.RSS>>20, mapped.PSS>>20, sum.RSS>>20, sum.PSS>>20)
	if mapped.RSS < n*mib<<20*9/10 {
		t.Errorf("the mapping's RSS sum is %d MiB, want ≥ %d (each process counts it whole)", mapped.RSS>>20, n*mib*9/10)
	}
	if lo, hi := uint64(mib<<20*9/10), uint64(mib<<20*11/10); mapped.PSS < lo || mapped.PSS > hi {
		t.Errorf("the mapping's PSS sum is %d MiB, want about %d (counted once in all)", mapped.PSS>>20, mib)
	}
	// What the sampler sums (smaps_rollup) shows the same: PSS well under RSS.
	if sum.RSS-sum.PSS < (n-1)*mib<<20*9/10 {
		t.Errorf("rollup RSS sum %d MiB vs PSS sum %d MiB: the sharing does not show", sum.RSS>>20, sum.PSS>>20)
	}
}
