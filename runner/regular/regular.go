// Package regular admits only regular files as inputs. A FIFO blocks the
// open until a writer comes (a hang), /dev/zero and its kin never end (a
// read that exhausts memory), a directory is not a file: every command
// that reads a file it was given checks it here first, before opening it.
// A package of its own, importing nothing of the project, so datasets,
// config and results all ask it.
package regular

import (
	"fmt"
	"io"
	"os"
)

// Check returns nil when path (links followed) is a regular file, and
// otherwise an error saying what it is, naming path.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s: %s, want a regular file", path, Kind(st.Mode()))
}

// Kind says what a file that is not regular is: "is a directory", "is a
// named pipe (FIFO)", …
func Kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "is a directory"
	case m&os.ModeNamedPipe != 0:
		return "is a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "is a socket"
	case m&os.ModeDevice != 0:
		return "is a device"
	}
	return "is not a regular file"
}

// ReadFile reads the regular file path, refusing one larger than max bytes
// before reading it all (a file in /proc states size 0: the read itself
// stops at max+1).
func ReadFile(path string, max int64) ([]byte, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: more than %d bytes, larger than this kind of file may be", path, max)
	}
	return data, nil
}
