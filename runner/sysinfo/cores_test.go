package sysinfo

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ortbench/ortbench/runner/procfs"
	"github.com/ortbench/ortbench/runner/results"
)

// The fixtures (testdata/README.md) are read through ReadCores, the code
// LiveCores runs on "/".
func TestReadCoresFixtures(t *testing.T) {
	gib := func(kb uint64) uint64 { return kb * 1024 }
	cases := []struct {
		name     string
		affinity []int
		want     results.Cores
	}{
		{"two-node", nil, results.Cores{
			Usable: 4, UsablePhysical: 4, CPUs: "0-15", Quota: 4, QuotaSource: "/sys/fs/cgroup/system.slice/cpu.max",
			SMTShared: "0,8;1,9;2,10;3,11;4,12;5,13;6,14;7,15",
			Nodes:     []results.NUMANode{{ID: 0, CPUs: "0-3,8-11", MemoryBytes: gib(65799236)}, {ID: 1, CPUs: "4-7,12-15", MemoryBytes: gib(65799236)}},
			Governor:  "powersave", Turbo: "on",
		}},
		// numactl --cpunodebind=1 --physcpubind=4-7: one node, no siblings.
		{"two-node", []int{4, 5, 6, 7}, results.Cores{
			Usable: 4, UsablePhysical: 4, CPUs: "4-7", Quota: 4, QuotaSource: "/sys/fs/cgroup/system.slice/cpu.max", Affinity: "4-7",
			Nodes:    []results.NUMANode{{ID: 1, CPUs: "4-7", MemoryBytes: gib(65799236)}},
			Governor: "powersave", Turbo: "on",
		}},
		{"hybrid", nil, results.Cores{
			Usable: 2, UsablePhysical: 2, CPUs: "0-19", Quota: 1.5, QuotaSource: "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
			SMTShared: "0-1;2-3;4-5;6-7;8-9;10-11;12-13;14-15",
			Nodes:     []results.NUMANode{{ID: 0, CPUs: "0-19", MemoryBytes: gib(32559924)}},
			Types:     []results.CoreType{{Name: "performance", Source: "cpu_core", CPUs: "0-15"}, {Name: "efficiency", Source: "cpu_atom", CPUs: "16-19"}},
			Governor:  "performance", Turbo: "off",
		}},
		// taskset -c 14-17: one P-core's two threads and two E-cores.
		{"hybrid", []int{14, 15, 16, 17}, results.Cores{
			Usable: 2, UsablePhysical: 2, CPUs: "14-17", Quota: 1.5, QuotaSource: "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", Affinity: "14-17",
			SMTShared: "14-15",
			Nodes:     []results.NUMANode{{ID: 0, CPUs: "14-17", MemoryBytes: gib(32559924)}},
			Types:     []results.CoreType{{Name: "performance", Source: "cpu_core", CPUs: "14-15"}, {Name: "efficiency", Source: "cpu_atom", CPUs: "16-17"}},
			Governor:  "performance", Turbo: "off",
		}},
		{"biglittle", nil, results.Cores{
			Usable: 8, UsablePhysical: 8, CPUs: "0-7",
			Nodes:    []results.NUMANode{{ID: 0, CPUs: "0-7", MemoryBytes: gib(16084020)}},
			Types:    []results.CoreType{{Name: "performance", Source: "cpu_capacity 1024", CPUs: "4-7"}, {Name: "efficiency", Source: "cpu_capacity 414", CPUs: "0-3"}},
			Governor: "schedutil", Turbo: "off",
		}},
	}
	for _, tc := range cases {
		got := ReadCores(Source{Root: filepath.Join("testdata", tc.name), Affinity: tc.affinity})
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v:\n got %+v\nwant %+v", tc.name, tc.affinity, got, tc.want)
		}
	}
	if n := HostPhysicalCores("testdata/hybrid"); n != 12 {
		t.Errorf("hybrid host physical cores = %d, want 12", n)
	}
}

// A cgroup v2 leaf quota, a v2 cpuset and a v1 quota on an ancestor, each
// written into a copy of a fixture: the same path the live system takes.
func TestReadCoresCgroupForms(t *testing.T) {
	cases := []struct {
		name, fixture, file, text string
		usable                    int
		quota                     float64
		cpus                      string
	}{
		{"v2 leaf cpu.max fractional", "two-node", "sys/fs/cgroup/system.slice/bench.service/cpu.max", "50000 100000", 1, 0.5, "0-15"},
		{"v2 cpu.max quota only", "two-node", "sys/fs/cgroup/system.slice/bench.service/cpu.max", "250000", 3, 2.5, "0-15"},
		{"v2 cpuset", "two-node", "sys/fs/cgroup/system.slice/bench.service/cpuset.cpus.effective", "4-5", 2, 4, "4-5"},
		{"v1 quota unlimited", "hybrid", "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1", 20, 0, "0-19"},
		{"v1 cpuset", "hybrid", "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "16-19", 2, 1.5, "16-19"},
	}
	for _, tc := range cases {
		root := copyTree(t, filepath.Join("testdata", tc.fixture))
		if err := os.WriteFile(filepath.Join(root, tc.file), []byte(tc.text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got := ReadCores(Source{Root: root})
		if got.Usable != tc.usable || got.Quota != tc.quota || got.CPUs != tc.cpus {
			t.Errorf("%s: usable %d, quota %g, cpus %q; want %d, %g, %q", tc.name, got.Usable, got.Quota, got.CPUs, tc.usable, tc.quota, tc.cpus)
		}
	}
}

func TestCPUList(t *testing.T) {
	for in, want := range map[string]string{"0-3,8,10-11": "0-3,8,10-11", "3,1,2": "1-3", "": "", "0-": "", "5-2": "", "x": ""} {
		if got := procfs.FormatCPUList(procfs.ParseCPUList(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]float64{"max 100000": 0, "150000 100000": 1.5, "100000 50000": 2, "": 0, "x 1": 0} {
		if got := cpuMax(in); got != want {
			t.Errorf("cpuMax(%q) = %g, want %g", in, got, want)
		}
	}
}

// The live system through the same code: whatever it says, the usable
// count never exceeds the host's and is at least 1.
func TestLiveCores(t *testing.T) {
	c := LiveCores()
	if c.Usable < 1 || c.Usable > LogicalCores(t.Context()) || c.UsablePhysical < 1 || c.UsablePhysical > c.Usable {
		t.Errorf("live: %+v", c)
	}
}

func copyTree(t *testing.T, src string) string {
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
