//go:build unix

package datasets

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapping is a read-only memory map of a whole file.
type mapping struct{ data []byte }

// mapFile maps path into memory, so that several processes reading the same
// file share its pages in the page cache instead of each copying them.
func mapFile(path string) (mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return mapping{}, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return mapping{}, err
	}
	size := st.Size()
	if size == 0 {
		return mapping{}, nil
	}
	if size != int64(int(size)) {
		return mapping{}, fmt.Errorf("file of %d bytes is too large to map", size)
	}
	// Private and writable, though nothing here writes: arrow-go swaps
	// the bytes of a big-endian file in place, and a corrupt file could
	// lead it to write elsewhere; with a read-only map either is a fault
	// that cannot be recovered. Pages nobody writes stay shared with the
	// page cache and with other processes mapping the file.
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return mapping{}, fmt.Errorf("mmap: %w", err)
	}
	return mapping{data: data}, nil
}

func (m mapping) close() error {
	if m.data == nil {
		return nil
	}
	return unix.Munmap(m.data)
}

// mapShared maps size bytes of f read-only and shared: the pages are the
// file's own (tmpfs or page cache), the same for every process mapping it.
func mapShared(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size != int64(int(size)) {
		return nil, fmt.Errorf("file of %d bytes cannot be mapped", size)
	}
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapShared(b []byte) error { return unix.Munmap(b) }

// freeBytes is the space left to an unprivileged writer in dir's filesystem.
func freeBytes(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}
