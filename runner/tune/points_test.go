package tune

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ortbench/ortbench/internal/pqtest"
	"github.com/ortbench/ortbench/runner/config"
)

// searched is a finished offline search over the synthetic surface, with
// the origin a tune of a small config gives it.
func searched(t *testing.T) *State {
	t.Helper()
	sp := bigSpace(t)
	set := DefaultSettings()
	set.Budget = time.Hour
	st, err := runTune(t, sp, set, &surface{overhead: 20e-6, perRow: 2e-6, rng: rand.New(rand.NewPCG(1, 1))}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := config.Load(filepath.Join(dir, "t.yaml"), []byte("name: tiny\nworkload: {model: m.onnx, dataset: {path: d.parquet}}\ntune: {max_p99: 1s}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Origin = NewOrigin(c, sp)
	return st
}

// TestOutputsFromCheckpoint: every file of a finished tune is made again,
// byte for byte, from its tune.json read back; a tune.json without an
// origin or a result is refused with one line.
func TestOutputsFromCheckpoint(t *testing.T) {
	st := searched(t)
	reg := bigSpace(t).Registry
	want, err := Outputs(reg, st)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range want {
		names = append(names, f.Name)
	}
	for _, n := range []string{ReportFile, PointsCSV, PointsParquet, WinnerFile(ObjectiveThroughput), SnippetFile} {
		if !slices.Contains(names, n) {
			t.Errorf("outputs lack %s: %v", n, names)
		}
	}
	data, err := marshalState(st)
	if err != nil {
		t.Fatal(err)
	}
	back, err := unmarshalState(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Outputs(reg, back)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d files from tune.json, %d from the tune", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("%s: from tune.json differs from the tune's (%d vs %d bytes)", want[i].Name, len(got[i].Data), len(want[i].Data))
		}
	}
	back.Origin = nil
	if _, err := Outputs(reg, back); err == nil || !strings.Contains(err.Error(), "no origin") || strings.Contains(err.Error(), "\n") {
		t.Errorf("no origin: %v", err)
	}
	back.Result = nil
	if _, err := Outputs(reg, back); err == nil || !strings.Contains(err.Error(), "no result yet") {
		t.Errorf("no result: %v", err)
	}
}

// TestPointsFlatFiles: tune-points.csv and .parquet hold one row per
// visited point with the same columns and values (NULL: an empty CSV
// field), the point's settings among them.
func TestPointsFlatFiles(t *testing.T) {
	st := searched(t)
	table := PointsTable(st)
	var cb, pb bytes.Buffer
	if err := table.WriteCSV(&cb); err != nil {
		t.Fatal(err)
	}
	if err := table.WriteParquet(&pb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(st.Result.Points)+1 {
		t.Fatalf("%d CSV rows for %d points", len(recs)-1, len(st.Result.Points))
	}
	header := recs[0]
	for _, c := range []string{"strategy", "workers", "threads", "batch_size", "spinning", "affinity", "rows_per_second", "measured_rows_per_second_lo", "measured_rows_per_second_hi", "status", "order"} {
		if !slices.Contains(header, c) {
			t.Errorf("no column %s in %v", c, header)
		}
	}
	tbl := pqtest.ReadBytes(t, pb.Bytes())
	if int(tbl.NumRows()) != len(recs)-1 || int(tbl.NumCols()) != len(header) {
		t.Fatalf("parquet %d×%d, csv %d×%d", tbl.NumRows(), tbl.NumCols(), len(recs)-1, len(header))
	}
	nulls := 0
	for j, name := range header {
		if tbl.Schema().Field(j).Name != name {
			t.Fatalf("column %d: parquet %s, csv %s", j, tbl.Schema().Field(j).Name, name)
		}
		col := tbl.Column(j).Data().Chunk(0)
		for i := range int(tbl.NumRows()) {
			if got, want := parquetText(col, i), recs[i+1][j]; got != want {
				t.Errorf("row %d %s: parquet %q, csv %q", i, name, got, want)
			}
			if col.IsNull(i) {
				nulls++
			}
		}
	}
	// Intra-op points have no workers key, goroutines points no threads.
	if nulls == 0 {
		t.Error("no NULL anywhere: a setting a strategy lacks should be NULL")
	}
	for i, p := range st.Result.Points {
		row := recs[i+1]
		if row[slices.Index(header, "strategy")] != p.Point.Strategy || row[slices.Index(header, "order")] != strconv.Itoa(i) {
			t.Errorf("row %d: %v, point %s", i, row, p.Point)
		}
	}
}

// parquetText is a Parquet value as the CSV writes it ("" for NULL).
func parquetText(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	switch a := col.(type) {
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', 8, 64)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i).ToTime(arrow.Microsecond).UTC().Format(time.RFC3339Nano)
	}
	return "?"
}
