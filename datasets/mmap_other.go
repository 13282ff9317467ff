//go:build !unix

package datasets

import "os"

// mapping holds a whole file; without mmap it is read into memory.
type mapping struct{ data []byte }

func mapFile(path string) (mapping, error) {
	data, err := os.ReadFile(path)
	return mapping{data: data}, err
}

func (m mapping) close() error { return nil }
