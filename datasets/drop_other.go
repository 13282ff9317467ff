//go:build !unix

package datasets

// drop does nothing: without mmap the file is held in memory whole.
func (m mapping) drop() {}
