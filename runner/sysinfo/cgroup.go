package sysinfo

import (
	"path"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/runner/procfs"
)

// cgroups is where this process's cgroups are, per hierarchy: v1 has one
// mount per controller (or a few joined: cpu,cpuacct), v2 one for all.
// Both are read where both are mounted (a hybrid host): a v2 cgroup only
// limits what its enabled controllers' files say, and the smaller quota wins.
type cgroups struct {
	fs rootFS
	v1 map[string]cgroupDir // controller → its cgroup
	v2 *cgroupDir
}

// cgroupDir is a cgroup's directory and its hierarchy's mount point (the
// walk up towards the root stops there), both relative to the root dir.
type cgroupDir struct{ dir, top string }

// cgroups reads proc/self/mountinfo and proc/self/cgroup.
func (r rootFS) cgroups() cgroups {
	cg := cgroups{fs: r, v1: map[string]cgroupDir{}}
	paths := map[string]string{} // v1 controller (or "" for v2) → path in its hierarchy
	for _, line := range strings.Split(r.read("proc/self/cgroup"), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			paths[""] = f[2]
			continue
		}
		for _, ctl := range strings.Split(f[1], ",") {
			paths[ctl] = f[2]
		}
	}
	for _, line := range strings.Split(r.read("proc/self/mountinfo"), "\n") {
		root, mnt, fstype, opts, ok := mountFields(line)
		if !ok {
			continue
		}
		switch fstype {
		case "cgroup2":
			if p, ok := paths[""]; ok {
				cg.v2 = &cgroupDir{dir: inMount(mnt, root, p), top: mnt}
			}
		case "cgroup":
			for _, ctl := range strings.Split(opts, ",") {
				if p, ok := paths[ctl]; ok && (ctl == "cpu" || ctl == "cpuset") {
					cg.v1[ctl] = cgroupDir{dir: inMount(mnt, root, p), top: mnt}
				}
			}
		}
	}
	return cg
}

// mountFields splits a mountinfo line: "32 31 0:29 / /sys/fs/cgroup/cpu
// rw,relatime - cgroup cgroup rw,cpu" gives root "/", mount point
// "/sys/fs/cgroup/cpu", type "cgroup", super options "rw,cpu".
func mountFields(line string) (root, mnt, fstype, opts string, ok bool) {
	pre, post, found := strings.Cut(line, " - ")
	f, g := strings.Fields(pre), strings.Fields(post)
	if !found || len(f) < 5 || len(g) < 3 {
		return "", "", "", "", false
	}
	return f[3], f[4], g[0], g[2], true
}

// inMount is where a cgroup's path (as /proc/self/cgroup gives it, from the
// hierarchy's root) lies below a mount of that hierarchy rooted at root (a
// container sees its own cgroup mounted as its /sys/fs/cgroup).
func inMount(mnt, root, p string) string {
	if root != "/" {
		if rel, ok := strings.CutPrefix(p, root); ok && (rel == "" || rel[0] == '/') {
			p = rel
		}
	}
	return path.Join(mnt, p)
}

// quota is the smallest CPU quota in cores on the way from the process's
// cgroups up to their hierarchies' roots, with the file that set it; 0
// when none is in force.
func (cg cgroups) quota() (float64, string) {
	var best float64
	var src string
	take := func(q float64, file string) {
		if q > 0 && (best == 0 || q < best) {
			best, src = q, file
		}
	}
	if d, ok := cg.v1["cpu"]; ok {
		d.walk(func(dir string) {
			q, _ := strconv.ParseFloat(cg.fs.read(dir+"/cpu.cfs_quota_us"), 64)
			p, _ := strconv.ParseFloat(cg.fs.read(dir+"/cpu.cfs_period_us"), 64)
			if q > 0 && p > 0 {
				take(q/p, dir+"/cpu.cfs_quota_us")
			}
		})
	}
	if cg.v2 != nil {
		cg.v2.walk(func(dir string) {
			take(cpuMax(cg.fs.read(dir+"/cpu.max")), dir+"/cpu.max")
		})
	}
	return best, src
}

// cpuMax parses cgroup v2's cpu.max ("150000 100000" → 1.5; "max 100000"
// → 0, no limit).
func cpuMax(s string) float64 {
	f := strings.Fields(s)
	if len(f) == 0 || f[0] == "max" {
		return 0
	}
	q, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	p := 100000.0 // the kernel's default period when only the quota is written
	if len(f) > 1 {
		if v, err := strconv.ParseFloat(f[1], 64); err == nil && v > 0 {
			p = v
		}
	}
	return q / p
}

// cpuset is the CPUs the process's cpuset cgroup allows (its effective
// list), nil where no cpuset controller is mounted.
func (cg cgroups) cpuset() []int {
	if cg.v2 != nil {
		if s := procfs.ParseCPUList(cg.fs.read(cg.v2.dir + "/cpuset.cpus.effective")); len(s) > 0 {
			return s
		}
	}
	if d, ok := cg.v1["cpuset"]; ok {
		for _, f := range []string{"/cpuset.effective_cpus", "/cpuset.cpus"} {
			if s := procfs.ParseCPUList(cg.fs.read(d.dir + f)); len(s) > 0 {
				return s
			}
		}
	}
	return nil
}

// walk visits d's directory and each parent up to the mount point.
func (d cgroupDir) walk(visit func(dir string)) {
	for dir := d.dir; ; dir = path.Dir(dir) {
		visit(dir)
		if dir == d.top || dir == "/" || dir == "." || !strings.HasPrefix(dir, d.top) {
			return
		}
	}
}
