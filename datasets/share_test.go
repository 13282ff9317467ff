package datasets

import (
	"os"
	"slices"
	"testing"
)

// ShareRows gives back the same rows, inside a shared mapping of a file
// that is already unlinked, and readable again through the file it returns.
func TestShareRows(t *testing.T) {
	const rows, width = 1000, 3
	data := make([]float32, rows*width)
	for i := range data {
		data[i] = float32(i) * 0.5
	}
	s, err := ShareRows(t.TempDir(), data, rows, width)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(s.Data, data) {
		t.Fatal("shared rows differ from the table's")
	}
	if !inside(s.Data, s.m) {
		t.Fatal("the rows are not in the mapping")
	}
	st, err := s.File.Stat()
	if err != nil || st.Size() < int64(len(data)*4) {
		t.Fatalf("shared file: %v, %v", st, err)
	}
	if _, err := os.Stat(s.File.Name()); !os.IsNotExist(err) {
		t.Errorf("%s still has a name (%v): it should be unlinked", s.File.Name(), err)
	}
}

// A dataset above arrow-go's default 256 MiB message body limit shares too
// (4M × 64 float32 is 1 GB: configs/processes-memory.yaml).
func TestShareRowsAboveTheDefaultBodyLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 272 MB to shared memory")
	}
	const rows, width = 17 << 20, 4 // 272 MiB of float32
	data := make([]float32, rows*width)
	data[len(data)-1] = 42
	s, err := ShareRows(SharedDir(), data, rows, width)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Data) != len(data) || s.Data[len(data)-1] != 42 {
		t.Fatal("the last row did not survive the move")
	}
}
