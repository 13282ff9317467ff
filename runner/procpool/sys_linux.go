//go:build linux

package procpool

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr makes the kernel SIGKILL a worker when the process that
// started it dies, however it dies: no orphans even after a SIGKILL of
// ortbench. (Pdeathsig fires when the forking OS thread exits, and the Go
// runtime retires a thread whose goroutine exits locked to it — ortbench's
// pinned workers do — so every fork runs on package spawn's lasting thread.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// growPipe raises a pipe's buffer to 1 MiB (the default
// /proc/sys/fs/pipe-max-size), so a task or result of a few hundred KiB is
// one write and one wake-up, not a dozen; it fails quietly.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
}

func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		return nil, malformed("file of %d bytes cannot be mapped", st.Size())
	}
	return unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
