//go:build !linux

package pyproc

import (
	"os"
	"syscall"
)

// Outside Linux the runner gets no process group, no Pdeathsig and no
// process-tree accounting: memory and CPU cover the runner process only.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func killTree(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func tree(pid int) []int { return []int{pid} }
