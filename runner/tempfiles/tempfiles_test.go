package tempfiles

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A file renamed into place and forgotten stays; one still listed is
// removed by RemoveAll; after it Create refuses.
func TestRemoveAll(t *testing.T) {
	dir := t.TempDir()
	done, err := Create(dir, ".a.tmp*")
	if err != nil {
		t.Fatal(err)
	}
	done.Close()
	final := filepath.Join(dir, "a")
	if err := os.Rename(done.Name(), final); err != nil {
		t.Fatal(err)
	}
	Forget(done.Name())
	pending, err := Create(dir, ".b.tmp*")
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Close()
	RemoveAll()
	if _, err := os.Stat(pending.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the pending temporary file is still there: %v", err)
	}
	if _, err := os.Stat(final); err != nil {
		t.Errorf("the file renamed into place was removed: %v", err)
	}
	if f, err := Create(dir, ".c.tmp*"); !errors.Is(err, ErrExiting) {
		t.Errorf("Create after RemoveAll: %v, %v; want ErrExiting", f, err)
	}
}
