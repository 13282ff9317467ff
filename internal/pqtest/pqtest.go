// Package pqtest reads a Parquet file back as one Arrow table, for tests
// that check what ortbench wrote (results, tune points, serving records).
// Only tests import it; a failure to read ends the test.
package pqtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ReadFile is the file at path as one table, released when the test ends.
func ReadFile(t testing.TB, path string) arrow.Table {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, pf)
}

// ReadBytes is an encoded file as one table, released when the test ends.
func ReadBytes(t testing.TB, b []byte) arrow.Table {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return read(t, pf)
}

func read(t testing.TB, pf *file.Reader) arrow.Table {
	t.Helper()
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}
