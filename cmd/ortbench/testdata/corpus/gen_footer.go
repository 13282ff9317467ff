//go:build ignore

// gen_footer writes the corpus's Parquet files whose footers lie about
// their rows (gen.py cannot: pyarrow writes honest footers). Run from this
// folder: go run gen_footer.go. Deterministic.
package main

import (
	"bytes"
	"encoding/binary"
	"log"
	"os"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

func main() {
	good, err := os.ReadFile("datasets/good.parquet")
	if err != nil {
		log.Fatal(err)
	}
	n := len(good)
	flen := int(binary.LittleEndian.Uint32(good[n-8:]))
	body, meta := good[:n-8-flen], good[n-8-flen:n-8]
	lie := func(name string, edit func(*metadata.FileMetaData)) {
		md, err := metadata.NewFileMetaData(meta, nil)
		if err != nil {
			log.Fatal(err)
		}
		edit(md)
		var f bytes.Buffer
		if _, err := md.WriteTo(&f, nil); err != nil {
			log.Fatal(err)
		}
		out := append(append([]byte{}, body...), f.Bytes()...)
		out = binary.LittleEndian.AppendUint32(out, uint32(f.Len()))
		out = append(out, "PAR1"...)
		if err := os.WriteFile("datasets/"+name, out, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	// The file's num_rows: 2^40 rows in a file of a few KB.
	lie("lying_rows.parquet", func(md *metadata.FileMetaData) { md.NumRows = 1 << 40 })
	// A row group's num_rows and the file's, agreeing, over columns that
	// hold 40 values.
	lie("lying_rowgroup.parquet", func(md *metadata.FileMetaData) {
		md.NumRows = 1 << 40
		md.RowGroups[0].NumRows = 1 << 40
	})
}
