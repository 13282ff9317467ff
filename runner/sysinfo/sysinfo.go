// Package sysinfo describes the machine a run measured: CPU, cores, memory,
// OS, Go and ORT versions, the commit the binary was built from. Every result carries it.
package sysinfo

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
)

// Collect gathers the environment block. Missing facts are left empty rather
// than failing the run.
func Collect(ctx context.Context) results.Environment {
	e := results.Environment{
		OS:                 runtime.GOOS,
		Arch:               runtime.GOARCH,
		GoVersion:          runtime.Version(),
		GOMAXPROCS:         runtime.GOMAXPROCS(0),
		LogicalCores:       runtime.NumCPU(),
		OnnxruntimeVersion: onnx.Version(),
		OnnxruntimeLibrary: onnx.LibraryPath(),
		GitCommit:          GitCommit(),
	}
	if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 {
		e.CPUModel = strings.TrimSpace(infos[0].ModelName)
		if infos[0].CacheSize > 0 {
			e.Caches = formatCache(infos[0].CacheSize)
		}
	}
	if c := sysfsCaches(sysfsCacheDir); c != "" {
		e.Caches = c
	}
	e.PhysicalCores = PhysicalCores(ctx)
	if n, err := cpu.CountsWithContext(ctx, true); err == nil && n > 0 {
		e.LogicalCores = n
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		e.MemoryBytes = vm.Total
	}
	if hi, err := host.InfoWithContext(ctx); err == nil {
		e.OS = strings.TrimSpace(hi.Platform + " " + hi.PlatformVersion)
		if e.OS == "" {
			e.OS = hi.OS
		}
		e.Kernel = hi.KernelVersion
	}
	e.Hostname, _ = os.Hostname()
	c := LiveCores()
	e.Cores = &c
	return e
}

// sysfsCacheDir lists cpu0's caches on Linux, one indexN directory each.
const sysfsCacheDir = "/sys/devices/system/cpu/cpu0/cache"

// sysfsCaches describes cpu0's caches from sysfs ("L1d 48 KiB, L1i 32 KiB,
// L2 2 MiB, L3 260 MiB"), or "" where sysfs does not say. gopsutil only
// reports one size, which on Linux is whichever cache /proc/cpuinfo names.
func sysfsCaches(dir string) string {
	idx, _ := filepath.Glob(filepath.Join(dir, "index*"))
	sort.Strings(idx)
	var parts []string
	for _, d := range idx {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(d, name))
			return strings.TrimSpace(string(b))
		}
		level, typ, size := read("level"), read("type"), read("size")
		if level == "" || size == "" {
			continue
		}
		name := "L" + level
		switch typ {
		case "Data":
			name += "d"
		case "Instruction":
			name += "i"
		}
		parts = append(parts, name+" "+cacheSize(size))
	}
	return strings.Join(parts, ", ")
}

// cacheSize turns sysfs's "2048K" into "2 MiB".
func cacheSize(s string) string {
	kb, err := strconv.Atoi(strings.TrimSuffix(s, "K"))
	if err != nil || !strings.HasSuffix(s, "K") {
		return s
	}
	switch {
	case kb >= 1024 && kb%1024 == 0:
		return strconv.Itoa(kb/1024) + " MiB"
	case kb >= 1024:
		return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + " MiB"
	}
	return strconv.Itoa(kb) + " KiB"
}

func formatCache(kb int32) string {
	return "L2/L3 " + strconv.Itoa(int(kb)) + " KB"
}

// PhysicalCores is what ORT means by intra_op_num_threads = 0 ("one per
// physical core"); it falls back to the logical count.
func PhysicalCores(ctx context.Context) int {
	if n, err := cpu.CountsWithContext(ctx, false); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}

// GitCommit returns the commit the binary was built from, as the Go
// toolchain stamped it (vcs.revision, with "-dirty" when the tree had
// uncommitted changes), or "unknown" — for `go run`, `go test` or a build
// with -buildvcs=false. It never asks git about the current directory:
// that would record another repository's commit for a binary run there.
func GitCommit() string {
	return gitCommit(debug.ReadBuildInfo())
}

func gitCommit(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "unknown"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "unknown"
	}
	return rev + dirty
}

// Version is ortbench's own version: the main module's version when the
// binary was built from a tagged module (`go install …@v1.2.0`) or stamped
// from VCS, else "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// LogicalCores is the number of logical CPUs.
func LogicalCores(ctx context.Context) int {
	if n, err := cpu.CountsWithContext(ctx, true); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}
