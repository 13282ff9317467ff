package datasets

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkRead streams a 100k-row, 64-feature dataset (float32 columns
// written by WriteSynth) through a 1024-row buffer: from Parquet (zstd,
// scalar columns; mostly decompression) and from the Arrow IPC file that
// WriteArrowIPC makes of it (memory-mapped, one tensor column; mostly the
// copy into dst). Each op opens, reads every row and closes.
func BenchmarkRead(b *testing.B) {
	const rows, width = 100_000, 64
	dir := b.TempDir()
	pq := filepath.Join(dir, "bench.parquet")
	if err := WriteSynth(context.Background(), SynthSpec{Rows: rows, Features: width, Classes: 10, Seed: 1}, pq); err != nil {
		b.Fatal(err)
	}
	tab, err := Load(Spec{Path: pq})
	if err != nil {
		b.Fatal(err)
	}
	arrow := filepath.Join(dir, "bench.arrow")
	if err := WriteArrowIPC(tab, arrow); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{{"format=parquet", pq}, {"format=arrow", arrow}} {
		b.Run(tc.name, func(b *testing.B) {
			dst := make([]float32, 1024*width)
			labels := make([]int64, 1024)
			b.ReportAllocs()
			b.SetBytes(rows * width * 4)
			for b.Loop() {
				r, err := Open(Spec{Path: tc.path})
				if err != nil {
					b.Fatal(err)
				}
				total := 0
				for {
					n, err := r.Read(dst, labels)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					total += n
				}
				r.Close()
				if total != rows {
					b.Fatalf("read %d rows", total)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
