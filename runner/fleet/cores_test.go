package fleet

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

func TestCPUQuota(t *testing.T) {
	for in, want := range map[string]int64{"2": 200000, "1.5": 150000, "1500m": 150000, "250m": 25000, "0.1": 10000, "0.3": 30000, "2.7": 270000} {
		if got, err := CPUQuota(in); err != nil || got != want {
			t.Errorf("CPUQuota(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "0", "-1", "0m", "1.2345", "2Gi", "1e3", "+2"} {
		if _, err := CPUQuota(in); err == nil {
			t.Errorf("CPUQuota(%q): want an error", in)
		}
	}
	if _, err := K8s(K8sOptions{Image: "ortbench:dev", Config: []byte("name: x\n"), Shards: 1, ResultsClaim: "r", CPU: "two"}); err == nil || !strings.Contains(err.Error(), `--cpu "two"`) {
		t.Errorf("K8s with --cpu two: %v", err)
	}
}

// node writes a 16-CPU node's sysfs and the shard's cgroup (v2, the
// container's own cgroup at the mount's root, as the kubelet and Slurm's
// task/cgroup leave them) below a temporary root.
func node(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	base := map[string]string{
		"sys/devices/system/cpu/online": "0-15",
		"proc/self/cgroup":              "0::/",
		"proc/self/mountinfo":           "28 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw",
	}
	for k, v := range files {
		base[k] = v
	}
	for k, v := range base {
		p := filepath.Join(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A K8s shard's limit and a Slurm shard's --cpus-per-task are what its
// threads: 0 resolves to, read by sysinfo as on a live node.
func TestShardsResolveCountsFromWhatTheyWereGiven(t *testing.T) {
	manifest, err := K8s(K8sOptions{Image: "ortbench:dev", Config: []byte("name: x\n"), Shards: 1, ResultsClaim: "r", CPU: "1500m"})
	if err != nil || !strings.Contains(string(manifest), `cpu: "1500m"`) {
		t.Fatalf("manifest: %v\n%s", err, manifest)
	}
	quota, _ := CPUQuota("1500m")
	pod := sysinfo.ReadCores(sysinfo.Source{Root: node(t, map[string]string{
		"sys/fs/cgroup/cpu.max": strconv.FormatInt(quota, 10) + " " + strconv.Itoa(KubeletPeriodMicros),
	})})
	if pod.Quota != 1.5 || pod.Usable != 2 {
		t.Errorf("pod with cpu 1500m: quota %g, usable %d; want 1.5, 2", pod.Quota, pod.Usable)
	}
	if got := threadsZero(t, sysinfo.MachineOf(pod, 16)); got != 2 {
		t.Errorf("pod: threads: 0 → %d, want 2", got)
	}

	script, err := Slurm(SlurmOptions{Config: "x.yaml", Shards: 2, Results: "res", CPUsPerTask: 4})
	if err != nil || !strings.Contains(string(script), "--cpus-per-task=4 \\") ||
		!strings.Contains(string(script), "exec srun --ntasks=1 --cpus-per-task=4 --cpu-bind=cores ortbench run") {
		t.Fatalf("slurm script: %v\n%s", err, script)
	}
	task := sysinfo.ReadCores(sysinfo.Source{Root: node(t, map[string]string{
		"sys/fs/cgroup/cpuset.cpus.effective": "4-7",
	}), Affinity: []int{4, 5, 6, 7}})
	if task.Usable != 4 || task.CPUs != "4-7" {
		t.Errorf("slurm task with 4 CPUs: %+v", task)
	}
	if got := threadsZero(t, sysinfo.MachineOf(task, 16)); got != 4 {
		t.Errorf("slurm task: threads: 0 → %d, want 4", got)
	}
	if _, err := Slurm(SlurmOptions{Config: "x.yaml", Shards: 1, Results: "res", CPUsPerTask: -1}); err == nil {
		t.Error("--cpus-per-task -1: want an error")
	}
}

func threadsZero(t *testing.T, m strategy.Machine) int {
	t.Helper()
	def := strategy.Default()["intra-op"]
	cfg, err := def.Decode(map[string]any{"threads": 0}, strategy.DecodeOptions{Batch: 64, Machine: m})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Shape().Threads
}
