package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestDiskFull writes runs into a 1 MiB tmpfs that is nearly full: run and
// merge fail, and what they leave is marked incomplete (or is no run at
// all), which report and compare refuse. It needs root for the mount;
// under CI=true it fails rather than skips without it.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real runs")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("TestDiskFull needs root (mount -t tmpfs) and CI=true is set")
		}
		t.Skip("needs root to mount a tmpfs")
	}
	bin := builtBinary(t)
	root := t.TempDir()
	cfg := filepath.Join(root, "chaos.yaml")
	if err := os.WriteFile(cfg, []byte(chaosConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	shardDir := filepath.Join(root, "shard")
	if out, err := exec.Command(bin, "run", "-q", "-c", cfg, "--out", shardDir, "--shard", "1/1").CombinedOutput(); err != nil {
		t.Fatalf("the shard: %v\n%s", err, out)
	}
	full := filepath.Join(root, "full")
	if err := os.Mkdir(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", full).Run() })
	// Leave a few KiB: results.json fits once, not the whole set.
	for _, left := range []int64{64 << 10, 16 << 10, 2 << 10} {
		fill(t, full, left)
		for _, args := range [][]string{
			{"merge", shardDir, "--out", filepath.Join(full, "merged")},
			{"run", "-q", "-c", cfg, "--out", filepath.Join(full, "run")},
		} {
			cmd := exec.Command(bin, args...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("%v with %d bytes free: exit 0\n%s", args[0], left, out)
			}
			dirs, _ := filepath.Glob(filepath.Join(full, "merged"))
			runs, _ := filepath.Glob(filepath.Join(full, "run", "*", "*"))
			for _, dir := range append(dirs, runs...) {
				st, err := results.CheckFolder(dir)
				if err != nil {
					continue // an unreadable results.json is refused by every reader
				}
				if !st.Incomplete {
					t.Errorf("%s (%s with %d bytes free): left complete-looking after the write failed", dir, args[0], left)
				}
				if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
					if code := exitOf(exec.Command(bin, "report", dir, "-o", "-")); code == 0 {
						t.Errorf("%s: report read it", dir)
					}
				}
			}
			os.RemoveAll(filepath.Join(full, "merged"))
			os.RemoveAll(filepath.Join(full, "run"))
		}
	}
}

// fill writes a filler file into dir until about left bytes stay free.
func fill(t *testing.T, dir string, left int64) {
	t.Helper()
	p := filepath.Join(dir, "filler")
	os.Remove(p)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if n := free - left; n > 0 {
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func exitOf(cmd *exec.Cmd) int {
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode()
}
