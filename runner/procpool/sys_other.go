//go:build !linux

package procpool

import (
	"errors"
	"os"
	"syscall"
)

func growPipe(*os.File) {}

// sysProcAttr: without Linux's Pdeathsig, workers notice a dead parent
// when their task pipe closes.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func mapFile(string) ([]byte, error) {
	return nil, errors.New("memory-mapped shared datasets need Linux; use transport copy")
}

func unmapFile([]byte) error { return nil }
