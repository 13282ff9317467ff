package datasets

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// decodeFile is the committed dataset the pipeline strategy decodes every
// pass in configs/go-vs-ort-threads.yaml and configs/quick.yaml.
var decodeFile = filepath.Join("data", "digits_noisy_100k.parquet")

// BenchmarkDecode measures rows/s decoding digits_noisy_100k.parquet (100k
// rows × 64 float features + label) into float32 rows, the way the
// pipeline's `source: file` reads it each pass:
//
//	go test ./datasets -run '^$' -bench Decode -benchtime 10x
//
// reader is the Reader as shipped (Open, Read in 256-row batches, Close).
// The pqarrow/… cases decode the same columns straight through pqarrow with
// one setting changed each — buffered stream (the Reader's) or pre-buffered
// column chunks, record batches of 64k or 8k rows, columns decoded one by
// one or in parallel — to show which setting the Reader's speed depends on.
func BenchmarkDecode(b *testing.B) {
	if _, err := os.Stat(decodeFile); err != nil {
		b.Skipf("no %s", decodeFile)
	}
	b.Run("reader", func(b *testing.B) {
		const batch = 256
		var rows int
		for b.Loop() {
			r, err := Open(Spec{Path: decodeFile, Label: "label"})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, batch*r.Width())
			labels := make([]int64, batch)
			rows = 0
			for {
				n, err := r.Read(dst, labels)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				rows += n
			}
			r.Close()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, tc := range []struct {
		name     string
		buffered bool
		batch    int64
		parallel bool
	}{
		{"pqarrow/buffered/batch=64k/serial", true, 64 << 10, false},
		{"pqarrow/prebuffered/batch=64k/serial", false, 64 << 10, false},
		{"pqarrow/buffered/batch=8k/serial", true, 8 << 10, false},
		{"pqarrow/buffered/batch=64k/parallel", true, 64 << 10, true},
		{"pqarrow/prebuffered/batch=64k/parallel", false, 64 << 10, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var rows int64
			for b.Loop() {
				props := parquet.NewReaderProperties(memory.DefaultAllocator)
				props.BufferedStreamEnabled = tc.buffered
				pf, err := file.OpenParquetFile(decodeFile, false, file.WithReadProps(props))
				if err != nil {
					b.Fatal(err)
				}
				fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: tc.batch, Parallel: tc.parallel}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				rr, err := fr.GetRecordReader(context.Background(), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				for rr.Next() {
					rows += rr.RecordBatch().NumRows()
				}
				if err := rr.Err(); err != nil && err != io.EOF {
					b.Fatal(err)
				}
				rr.Release()
				pf.Close()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
