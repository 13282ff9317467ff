package strategy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/workload"
)

func replicateModel(t *testing.T, dataset string, rows int) workload.Workload {
	t.Helper()
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (run `make ort`)", err)
	}
	m, err := workload.NewModel(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", dataset), Label: "label", Limit: rows})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Transport replicate gives the sequential strategy's outputs, warm and
// per-run, on the model and on the heavy task.
func TestProcessesReplicateOutputs(t *testing.T) {
	heavy, err := workload.NewHeavy(203, 3000)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []workload.Workload{heavy, replicateModel(t, "digits.parquet", 500)} {
		ref := runAll(t, sequentialDef(), w, tp{BatchSize: 7})
		for _, start := range []string{StartWarm, StartPerRun} {
			t.Run(w.Kind()+"/"+start, func(t *testing.T) {
				out := runAll(t, processesDef(), w, tp{Workers: 2, BatchSize: 7, Transport: "replicate", Start: start})
				for k := range ref.Layout {
					if !slices.Equal(out.I64[k], ref.I64[k]) || !slices.Equal(out.F32[k], ref.F32[k]) {
						t.Fatalf("output %s differs from the sequential strategy's", ref.Layout[k].Name)
					}
				}
				requireNoChildren(t)
			})
		}
	}
}

// workersPSS starts the processes strategy (warm), runs one pass and sums
// the PSS of its worker processes.
func workersPSS(t *testing.T, w workload.Workload, transport string, workers int) (uint64, map[int]string) {
	t.Helper()
	s := &processes{}
	job := processesJob(w, tp{Workers: workers, BatchSize: 1000, Transport: transport, Start: StartWarm})
	if err := s.Start(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := workload.NewOutputs(w.Layout(), w.Rows(), 1000)
	if err := s.Pass(context.Background(), job.Batches(), out, metrics.NewRecorders(s.Recorders())); err != nil {
		t.Fatal(err)
	}
	var pss uint64
	for _, pid := range s.PIDs() {
		m, err := procfs.ReadMem(pid)
		if err != nil || m.PSS == 0 {
			t.Skipf("no PSS for pid %d (%v): needs /proc/PID/smaps_rollup", pid, err)
		}
		pss += m.PSS
	}
	return pss, s.Roles()
}

// The duplication, measured: with replicate every added worker adds a
// whole copy of the dataset to the tree's PSS; with shared the workers
// split one mapped copy, so an added worker adds only itself (runtime and
// session). 100k rows × 64 features is 25.6 MB of float32.
func TestProcessesReplicateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k rows in several processes")
	}
	w := replicateModel(t, "digits_noisy_100k.parquet", 100_000)
	data := float64(w.Rows() * w.RecordBytes())
	pss := map[string][2]float64{}
	for _, transport := range []string{"replicate", "shared"} {
		var p [2]float64
		for i, n := range []int{1, 2} {
			v, roles := workersPSS(t, w, transport, n)
			p[i] = float64(v)
			var names []string
			for _, r := range roles {
				names = append(names, r)
			}
			slices.Sort(names)
			if want := []string{"worker 0", "worker 1"}[:n]; !slices.Equal(names, want) {
				t.Errorf("%s × %d: roles %v, want %v", transport, n, roles, want)
			}
		}
		pss[transport] = p
		t.Logf("%s: workers' PSS %.1f MB with 1 worker, %.1f MB with 2 (dataset %.1f MB)", transport, p[0]/1e6, p[1]/1e6, data/1e6)
	}
	growRep := pss["replicate"][1] - pss["replicate"][0]
	growShared := pss["shared"][1] - pss["shared"][0]
	if growRep-growShared < 0.75*data {
		t.Errorf("a second worker adds %.1f MB with replicate and %.1f MB with shared: want replicate's to be a dataset (%.1f MB) more", growRep/1e6, growShared/1e6, data/1e6)
	}
	if growShared > growRep-0.75*data || pss["shared"][1] > pss["replicate"][1]-0.75*data {
		t.Errorf("shared's PSS grows like replicate's: %v", pss)
	}
}

// Transport shared holds one copy of the data in the whole tree: after the
// cell starts, the runner's own rows (what every in-process strategy and
// the reference read) lie in a shared mapping of the same file — the same
// inode — that every worker maps. No heap copy beside it.
func TestProcessesSharedIsTheRunnersOwnCopy(t *testing.T) {
	w := replicateModel(t, "digits.parquet", 0)
	want := slices.Clone(w.Data())
	s := &processes{}
	job := processesJob(w, tp{Workers: 2, BatchSize: 64, Transport: "shared", Start: StartWarm})
	if err := s.Start(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(w.Data(), want) {
		t.Fatal("the rows changed when they moved into shared memory")
	}
	out := workload.NewOutputs(w.Layout(), w.Rows(), 64)
	if err := s.Pass(context.Background(), job.Batches(), out, metrics.NewRecorders(s.Recorders())); err != nil {
		t.Fatal(err)
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(w.Data())))
	file, shared := mappingAt(t, "self", addr)
	if !strings.Contains(file.path, "ortbench-shared-") || !shared {
		t.Fatalf("the runner's rows are in %+v (shared %v), want a shared mapping of the shared dataset file", file, shared)
	}
	for _, pid := range s.PIDs() {
		if !mapsInode(t, fmt.Sprint(pid), file.inode) {
			t.Errorf("worker pid %d does not map inode %s (the runner's rows)", pid, file.inode)
		}
	}
	// A second shared cell reuses the same file.
	f, err := workload.Share(w)
	if err != nil || f != s.shared {
		t.Errorf("Share again: %v, %v; want the same file", f, err)
	}
}

type mappedFile struct{ path, inode string }

// mappingAt finds the /proc/PID/maps line holding addr.
func mappingAt(t *testing.T, pid string, addr uintptr) (mappedFile, bool) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Skipf("no /proc maps: %v", err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		var lo, hi uintptr
		if len(f) < 5 {
			continue
		}
		if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err != nil || addr < lo || addr >= hi {
			continue
		}
		m := mappedFile{inode: f[4]}
		if len(f) > 5 {
			m.path = f[5]
		}
		return m, strings.HasSuffix(f[1], "s")
	}
	t.Fatalf("address %#x is in no mapping of %s", addr, pid)
	return mappedFile{}, false
}

func mapsInode(t *testing.T, pid, inode string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) > 5 && f[4] == inode && strings.Contains(f[5], "ortbench-shared-") {
			return true
		}
	}
	return false
}
