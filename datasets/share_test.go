package datasets

import (
	"os"
	"slices"
	"testing"

	"github.com/ortbench/ortbench/internal/raw"
)

// ShareRows gives back the same rows, inside a shared mapping of a file
// that is already unlinked, and readable again through the file it returns.
func TestShareRows(t *testing.T) {
	const rows, width = 1000, 3
	data := make([]float32, rows*width)
	for i := range data {
		data[i] = float32(i) * 0.5
	}
	s, err := ShareRows(t.TempDir(), raw.Bytes(data), rows, 4*width)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(s.Data, raw.Bytes(data)) {
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
	s, err := ShareRows(SharedDir(), raw.Bytes(data), rows, 4*width)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if f, _ := raw.As[float32](s.Data); len(f) != len(data) || f[len(data)-1] != 42 {
		t.Fatal("the last row did not survive the move")
	}
}

// LoadFeatures reads what Load reads but the labels: a workload feeds the
// model features only, so it does not hold a label column it never uses.
func TestLoadFeaturesLeavesTheLabelsOut(t *testing.T) {
	spec := Spec{Path: "data/digits.parquet", Label: "label"}
	all, err := Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	feat, err := LoadFeatures(spec)
	if err != nil {
		t.Fatal(err)
	}
	if all.Labels == nil || feat.Labels != nil {
		t.Fatalf("labels: Load %d, LoadFeatures %d; want some and none", len(all.Labels), len(feat.Labels))
	}
	if !slices.Equal(all.Data, feat.Data) || all.Width != feat.Width || all.Rows != feat.Rows {
		t.Fatal("LoadFeatures read other features than Load")
	}
}

// A dataset bigger than /dev/shm's free space goes to the temporary
// directory (a container's /dev/shm is often 64 MB), not to a full tmpfs.
func TestSharedDirFallsBackWhenShmIsTooSmall(t *testing.T) {
	free, ok := freeBytes("/dev/shm")
	if !ok || SharedDir() != "/dev/shm" {
		t.Skip("no writable /dev/shm")
	}
	if got := sharedDirFor(int64(free) + 1); got != os.TempDir() {
		t.Errorf("a file larger than /dev/shm's %d free bytes goes to %s, want %s", free, got, os.TempDir())
	}
	if got := sharedDirFor(1); got != "/dev/shm" {
		t.Errorf("a 1-byte file goes to %s, want /dev/shm", got)
	}
}
