// Package tempfiles keeps the list of named temporary files the atomic
// writers (results.WriteFileAtomic, the dataset writer) have made and not
// yet renamed into place, so that the exit that cannot wait for them — the
// second Ctrl-C, which quits at once — removes them first and leaves no
// ".results.json.tmp…" behind. A kill -9 still can: no handler runs.
package tempfiles

import (
	"errors"
	"os"
	"sync"
)

var (
	mu      sync.Mutex
	live    = map[string]struct{}{}
	exiting bool
)

// ErrExiting is Create's error once RemoveAll has run.
var ErrExiting = errors.New("not creating a temporary file: the process is exiting")

// Create is os.CreateTemp, with the file listed until Forget. The file is
// made and listed under one lock, so RemoveAll never misses one that
// exists.
func Create(dir, pattern string) (*os.File, error) {
	mu.Lock()
	defer mu.Unlock()
	if exiting {
		return nil, ErrExiting
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	live[f.Name()] = struct{}{}
	return f, nil
}

// Forget takes name off the list: it was renamed into place or removed.
func Forget(name string) {
	mu.Lock()
	delete(live, name)
	mu.Unlock()
}

// RemoveAll removes every listed file and refuses later Creates: called
// right before an exit that does not wait for the writers. A writer whose
// file it removed fails its rename, which no one sees.
func RemoveAll() {
	mu.Lock()
	defer mu.Unlock()
	exiting = true
	for name := range live {
		_ = os.Remove(name)
		delete(live, name)
	}
}
