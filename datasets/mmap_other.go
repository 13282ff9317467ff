//go:build !unix

package datasets

import (
	"errors"
	"os"
)

// mapping holds a whole file; without mmap it is read into memory.
type mapping struct{ data []byte }

func mapFile(path string) (mapping, error) {
	data, err := os.ReadFile(path)
	return mapping{data: data}, err
}

func (m mapping) close() error { return nil }

func mapShared(f *os.File, size int64) ([]byte, error) {
	return nil, errors.New("shared memory needs a unix system")
}

func unmapShared([]byte) error { return nil }

func freeBytes(string) (uint64, bool) { return 0, false }
