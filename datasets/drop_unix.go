//go:build unix

package datasets

import "golang.org/x/sys/unix"

// drop hands the mapping's resident pages back (MADV_DONTNEED): the next
// access reads them again from the page cache. A streaming reader calls it
// between record batches so the process's RSS does not grow with the file.
// Nothing writes to the mapping (see mapFile), so nothing is lost.
func (m mapping) drop() {
	if len(m.data) > 0 {
		_ = unix.Madvise(m.data, unix.MADV_DONTNEED)
	}
}
