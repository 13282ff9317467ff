package strategy

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/workload"
)

// needPython skips the test when the Python environment is missing.
func needPython(t *testing.T) (python, dir string) {
	t.Helper()
	python, dir, err := FindPython()
	if err != nil {
		t.Skipf("%v", err)
	}
	return python, dir
}

func TestPyDefinitions(t *testing.T) {
	reg := Default()
	for _, name := range []string{"py-sequential", "py-threads", "py-asyncio", "py-pool", "py-executor", "py-intra-op"} {
		if _, err := reg.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	pool := reg["py-pool"]
	p := tp{Workers: 2, BatchSize: 8}
	if c := conf(pool, p).(*pyProcessesConfig); c.StartMethod != "fork" || c.Data != "pickle" || c.Shape().Threads != 1 {
		t.Fatalf("py-pool defaults: %+v", c)
	}
	if err := validate(pool, p); err != nil {
		t.Fatal(err)
	}
	if got := describe(pool, p); !strings.Contains(got, "multiprocessing.Pool(2, fork)") || !strings.Contains(got, "pickled") {
		t.Errorf("describe: %s", got)
	}
	for _, bad := range []tp{
		{Workers: 2, StartMethod: "vfork", Data: "pickle"},
		{Workers: 2, StartMethod: "spawn", Data: "mmap"},
		{Workers: 0, StartMethod: "spawn", Data: "pickle"},
	} {
		if err := validate(reg["py-executor"], bad); err == nil {
			t.Errorf("py-executor accepted %+v", bad)
		}
	}
	if reg["py-intra-op"].NeedsORT != true || reg["py-threads"].NeedsORT {
		t.Error("py-intra-op needs a model; py-threads runs the heavy task too")
	}
}

func TestFindPythonSkipsWithHowTo(t *testing.T) {
	t.Setenv(PythonEnvVar, filepath.Join(t.TempDir(), "no-such-python"))
	_, _, err := FindPython()
	if !errors.Is(err, ErrSkip) {
		t.Fatalf("missing interpreter: %v, want ErrSkip", err)
	}
	// No baseline above the working directory (nor above the test binary).
	t.Setenv(PythonEnvVar, "")
	t.Chdir(t.TempDir())
	if _, _, err := FindPython(); !errors.Is(err, ErrSkip) || !strings.Contains(err.Error(), "baselines/python") {
		t.Fatalf("missing baseline: %v", err)
	}
}

func TestPyStartSkipsWithoutEnvironment(t *testing.T) {
	t.Setenv(PythonEnvVar, filepath.Join(t.TempDir(), "no-such-python"))
	w, _ := workload.NewHeavy(4, 1)
	s := Default()["py-sequential"].New()
	err := s.Start(context.Background(), &Job{Workload: w, Config: conf(Default()["py-sequential"], tp{BatchSize: 2}), Options: onnx.DefaultOptions()})
	defer s.Close()
	if !errors.Is(err, ErrSkip) {
		t.Fatalf("Start: %v, want ErrSkip", err)
	}
}

// TestPythonHeavyTwinMatchesGo checks baselines/python's heavy_item against
// workload.HeavyItem, bit for bit.
func TestPythonHeavyTwinMatchesGo(t *testing.T) {
	python, dir := needPython(t)
	seeds := []uint64{0, 1, 2, 99, 12345, 1 << 40, 1<<63 + 5}
	costs := []int{1, 2, 17, 5000}
	script := "import sys\nfrom ortbench_py.heavy import heavy_item\n" +
		"for line in sys.stdin:\n    s, c = map(int, line.split())\n    print(heavy_item(s, c))\n"
	var in strings.Builder
	var want []string
	for _, s := range seeds {
		for _, c := range costs {
			in.WriteString(strconv.FormatUint(s, 10) + " " + strconv.Itoa(c) + "\n")
			want = append(want, strconv.FormatUint(workload.HeavyItem(s, c), 10))
		}
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("python twin differs from Go:\ngot  %v\nwant %v", got, want)
	}
}

// TestPyStrategiesHeavyTask drives each py-* strategy over the protocol and
// checks outputs, coverage, latencies and the process tree.
func TestPyStrategiesHeavyTask(t *testing.T) {
	needPython(t)
	const items, cost = 37, 300
	w, _ := workload.NewHeavy(items, cost)
	cases := []struct {
		name   string
		p      tp
		minPID int // processes in the tree at least
	}{
		{"py-sequential", tp{}, 1},
		{"py-threads", tp{Workers: 2}, 1},
		{"py-asyncio", tp{Workers: 2}, 1},
		{"py-pool", tp{Workers: 2, StartMethod: "fork", Data: "pickle"}, 3},
		{"py-pool", tp{Workers: 2, StartMethod: "spawn", Data: "shared_memory"}, 3},
		{"py-executor", tp{Workers: 3, StartMethod: "forkserver", Data: "shared_memory"}, 4},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.p.StartMethod+"/"+c.p.Data, func(t *testing.T) {
			def := Default()[c.name]
			p := c.p
			p.BatchSize = 5
			if err := validate(def, p); err != nil {
				t.Fatal(err)
			}
			s := def.New()
			job := &Job{Workload: w, Config: conf(def, p), Options: onnx.DefaultOptions()}
			if err := s.Start(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}()
			pids := s.(*python).PIDs()
			if len(pids) < c.minPID {
				t.Errorf("process tree %v: want at least %d processes", pids, c.minPID)
			}
			for _, pid := range pids {
				if _, err := procfs.ReadMem(pid); err != nil {
					t.Errorf("pid %d: %v", pid, err)
				}
			}
			if info := s.(*python).Report(); !strings.Contains(info["python"].(string), "Python") {
				t.Errorf("report: %v", info)
			}
			out := workload.NewOutputs(w.Layout(), w.Rows(), p.BatchSize)
			recs := metrics.NewRecorders(s.Recorders())
			if err := s.Pass(context.Background(), 2, out, recs); err != nil {
				t.Fatal(err)
			}
			if err := out.Coverage(2); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			recs.Reset()
			if err := s.Pass(context.Background(), job.Batches(), out, recs); err != nil {
				t.Fatal(err)
			}
			if err := out.Coverage(job.Batches()); err != nil {
				t.Fatal(err)
			}
			if n := recs.Get(0).Count(); n != int64(job.Batches()) {
				t.Errorf("%d latencies for %d batches", n, job.Batches())
			}
			for i, v := range out.I64[0] {
				if want := int64(workload.HeavyItem(uint64(i), cost)); v != want {
					t.Fatalf("item %d: got %d want %d", i, v, want)
				}
			}
		})
	}
}

// TestPyCancelKillsTheRunner: a cancelled pass returns at once, and Close
// leaves no process behind.
func TestPyCancelKillsTheRunner(t *testing.T) {
	needPython(t)
	w, _ := workload.NewHeavy(200, 200000) // seconds of pure-Python work
	def := Default()["py-pool"]
	p := tp{Workers: 2, BatchSize: 1, Data: "shared_memory"}
	s := def.New()
	if err := s.Start(context.Background(), &Job{Workload: w, Config: conf(def, p), Options: onnx.DefaultOptions()}); err != nil {
		t.Fatal(err)
	}
	pids := s.(*python).PIDs()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err := s.Pass(ctx, 200, workload.NewOutputs(w.Layout(), w.Rows(), 1), metrics.NewRecorders(1))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pass: %v, want the deadline", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("cancelled pass took %s", d)
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for procfs.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if procfs.Alive(pid) {
			t.Errorf("pid %d still alive after Close", pid)
		}
	}
	if left, _ := filepath.Glob(fmt.Sprintf("/dev/shm/ortbench-%d-*", pids[0])); len(left) > 0 {
		t.Errorf("shared memory left behind: %v", left)
	}
}

// TestPyRunnerErrorIsReported: a start-up failure inside Python (a model
// that does not exist) is an error with Python's message, not ErrSkip.
func TestPyRunnerErrorIsReported(t *testing.T) {
	needPython(t)
	s := &python{name: "py-nope"}
	w, _ := workload.NewHeavy(4, 1)
	err := s.Start(context.Background(), &Job{Workload: w, Config: conf(Default()["py-sequential"], tp{BatchSize: 2}), Options: onnx.DefaultOptions()})
	defer s.Close()
	if err == nil || errors.Is(err, ErrSkip) || !strings.Contains(err.Error(), "unknown Python strategy") {
		t.Fatalf("Start: %v", err)
	}
}
