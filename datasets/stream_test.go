package datasets

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
)

// readAll reads every row of spec through a Reader, 100 rows at a time.
func readAll(t *testing.T, spec Spec) ([]float32, []int64) {
	t.Helper()
	r, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var data []float32
	var labels []int64
	buf, lab := make([]float32, 100*r.Width()), make([]int64, 100)
	for {
		n, err := r.Read(buf, lab)
		data, labels = append(data, buf[:n*r.Width()]...), append(labels, lab[:n]...)
		if errors.Is(err, io.EOF) {
			return data, labels
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A streaming reader (Spec.Stream: smaller Parquet batches, a mapped Arrow
// IPC file's pages handed back between record batches) reads the same rows
// as the table.
func TestStreamReadsTheSameRows(t *testing.T) {
	pq := filepath.Join("data", "digits.parquet")
	tab, err := Load(Spec{Path: pq, Label: "label"})
	if err != nil {
		t.Fatal(err)
	}
	ipc := filepath.Join(t.TempDir(), "digits.arrow")
	if err := writeArrowIPC(tab, ipc, 97); err != nil { // 19 record batches
		t.Fatal(err)
	}
	for _, path := range []string{pq, ipc} {
		data, labels := readAll(t, Spec{Path: path, Label: "label", Stream: true})
		if !slices.Equal(data, tab.Data) || !slices.Equal(labels, tab.Labels) {
			t.Errorf("%s: streamed rows differ from the table's (%d values, %d labels)", path, len(data), len(labels))
		}
	}
	// Several streaming record batches (streamBatchRows) of a Parquet file.
	big := Spec{Path: filepath.Join("data", "digits_noisy_100k.parquet"), Label: "label", Limit: 2*streamBatchRows + 123}
	tab, err = Load(big)
	if err != nil {
		t.Fatal(err)
	}
	big.Stream = true
	if data, labels := readAll(t, big); !slices.Equal(data, tab.Data) || !slices.Equal(labels, tab.Labels) {
		t.Errorf("%s: streamed rows differ from the table's", big.Path)
	}
}
