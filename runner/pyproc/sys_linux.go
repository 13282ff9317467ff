package pyproc

import (
	"syscall"

	"github.com/ortbench/ortbench/runner/procfs"
)

// sysProcAttr starts the Python runner in its own process group (so
// killTree reaches its pool workers, and a terminal's Ctrl-C reaches only
// ortbench, which then closes the cell) and kills it if ortbench dies.
// (Pdeathsig fires when the forking OS thread exits: the fork runs on
// package spawn's lasting thread; the runner's workers have their own.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killTree kills the process group led by pid.
func killTree(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// tree is pid and every process under it.
func tree(pid int) []int { return procfs.Tree(pid) }
