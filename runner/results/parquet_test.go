package results

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ortbench/ortbench/internal/pqtest"
)

func TestCSVRoundTrip(t *testing.T) {
	run := sampleRun()
	run.Cells[0].Params = append(run.Cells[0].Params, Param{Key: "start_method", Value: "spawn"})
	var buf bytes.Buffer
	if err := EncodeCSV(run, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(run.Cells)+1 || !slices.Equal(recs[0], CSVHeader(run)) {
		t.Fatalf("got %d records, header %v", len(recs), recs[0])
	}
	row := map[string]string{}
	for i, name := range recs[0] {
		row[name] = recs[1][i]
	}
	c := run.Cells[0]
	if row["cell"] != c.Name || row["start_method"] != "spawn" || row["rows_per_second"] != strconv.FormatFloat(c.RowsPerSecond, 'g', 8, 64) || row["verified"] != strconv.FormatBool(c.Verification.Passed) {
		t.Fatalf("row %v does not match cell %+v", row, c)
	}
}

func TestEncodeParquetRoundTrip(t *testing.T) {
	run := sampleRun()
	var buf bytes.Buffer
	if err := EncodeParquet(run, &buf); err != nil {
		t.Fatal(err)
	}
	tbl := pqtest.ReadBytes(t, buf.Bytes())
	if got := int(tbl.NumRows()); got != len(run.Cells) {
		t.Fatalf("rows = %d, want %d", got, len(run.Cells))
	}
	if got := int(tbl.NumCols()); got != len(CSVHeader(run)) {
		t.Fatalf("cols = %d, want %d", got, len(CSVHeader(run)))
	}
	col := func(name string) int {
		i := tbl.Schema().FieldIndices(name)
		if len(i) != 1 {
			t.Fatalf("column %s missing", name)
		}
		return i[0]
	}
	cell := tbl.Column(col("cell")).Data().Chunk(0).(*array.String)
	rps := tbl.Column(col("rows_per_second")).Data().Chunk(0).(*array.Float64)
	workers := tbl.Column(col("workers")).Data().Chunk(0).(*array.Int64)
	verified := tbl.Column(col("verified")).Data().Chunk(0).(*array.Boolean)
	rss := tbl.Column(col("peak_rss_bytes")).Data().Chunk(0).(*array.Int64)
	errs := tbl.Column(col("error")).Data().Chunk(0).(*array.String)
	for i, c := range run.Cells {
		if !Measured(c.Status) {
			// Figures that do not apply are NULL, not 0.
			if !rps.IsNull(i) || !rss.IsNull(i) || errs.IsNull(i) != (c.Error == "") {
				t.Errorf("row %d (%s): want NULL figures", i, c.Status)
			}
			continue
		}
		if cell.Value(i) != c.Name || rps.Value(i) != c.RowsPerSecond || workers.Value(i) != int64(c.Params.Int("workers")) ||
			verified.Value(i) != c.Verification.Passed || rss.Value(i) != int64(c.Memory.PeakRSSBytes) || errs.Value(i) != c.Error {
			t.Errorf("row %d: got %q %v %d %v %d %q, want %+v", i, cell.Value(i), rps.Value(i), workers.Value(i), verified.Value(i), rss.Value(i), errs.Value(i), c)
		}
	}
}

func TestEncodeParquetEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeParquet(&Run{Schema: Schema}, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Fatal("no bytes written")
	}
}
