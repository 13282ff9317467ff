package strategy

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ortbench/ortbench/runner/workload"
)

// TestPinThread: a pinned goroutine's thread may run on its slot's CPU only.
func TestPinThread(t *testing.T) {
	cpus := allowedCPUs()
	l := Layout{CPUs: cpus}
	for _, slot := range []int{0, 1, len(cpus) + 1} {
		got := make(chan []int, 1)
		go func() {
			if err := pinThread(l.CPU(slot, 0, 1)); err != nil {
				t.Error(err)
				got <- nil
				return
			}
			var set unix.CPUSet
			unix.SchedGetaffinity(0, &set)
			var on []int
			for c := 0; c < 1024; c++ {
				if set.IsSet(c) {
					on = append(on, c)
				}
			}
			got <- on
		}()
		if on := <-got; len(on) != 1 || on[0] != cpus[slot%len(cpus)] {
			t.Errorf("slot %d: thread may run on %v, want only CPU %d", slot, on, cpus[slot%len(cpus)])
		}
	}
	// The test's own thread is untouched.
	var set unix.CPUSet
	unix.SchedGetaffinity(0, &set)
	if set.Count() != len(cpus) {
		t.Errorf("the calling thread lost CPUs: %d of %d", set.Count(), len(cpus))
	}
}

func TestIntraOpAffinityString(t *testing.T) {
	cpus := allowedCPUs()
	l := Layout{CPUs: cpus}
	if got := intraOpAffinity(l, 0, 1); got != "" {
		t.Errorf("one thread: %q", got)
	}
	want := fmt.Sprintf("%d;%d", cpus[1%len(cpus)]+1, cpus[2%len(cpus)]+1)
	if got := intraOpAffinity(l, 0, 3); got != want {
		t.Errorf("3 threads from slot 0: %q, want %q (1-based CPU ids of slots 1 and 2)", got, want)
	}
}

// TestPinnedStrategiesGiveTheSameOutputs runs every in-process strategy
// pinned (the heavy task) and with ORT's intra-op affinity (a model), and
// requires the outputs of the unpinned run.
func TestPinnedStrategiesGiveTheSameOutputs(t *testing.T) {
	w, err := workload.NewHeavy(37, 300)
	if err != nil {
		t.Fatal(err)
	}
	reg := Default()
	for _, name := range []string{"sequential", "goroutines", "worker-pool", "pipeline", "processes"} {
		t.Run(name, func(t *testing.T) {
			def := reg[name]
			plain := runAll(t, def, w, tp{Workers: 2, BatchSize: 5})
			pinned := runAll(t, def, w, tp{Workers: 2, BatchSize: 5, Affinity: true})
			for i := range plain.I64[0] {
				if plain.I64[0][i] != pinned.I64[0][i] {
					t.Fatalf("item %d: %d pinned, %d not", i, pinned.I64[0][i], plain.I64[0][i])
				}
			}
		})
	}
}

// TestPinProcess: a child process pinned to slot 1 may run on that CPU only.
func TestPinProcess(t *testing.T) {
	cpus := allowedCPUs()
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "5"}, &os.ProcAttr{})
	if err != nil {
		t.Skip(err)
	}
	defer func() { p.Kill(); p.Wait() }()
	if err := pinProcess(p.Pid, Layout{CPUs: cpus}, 1, 1); err != nil {
		t.Fatal(err)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
	want := fmt.Sprintf("Cpus_allowed_list:\t%d\n", cpus[1%len(cpus)])
	if !strings.Contains(string(status), want) {
		t.Errorf("status lacks %q", want)
	}
}
