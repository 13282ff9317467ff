package serve

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ortbench/ortbench/internal/pqtest"
)

// TestRecordsRoundTrip: a capped load's records hold one row per served
// request (dropped ones absent) whose times are the engine's, on a
// simulated clock: queue + service = end − scheduled.
func TestRecordsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var o *Outcome
	synctest.Test(t, func(t *testing.T) {
		sched, err := schedule("constant", 1000, 200, 0)
		if err != nil {
			t.Fatal(err)
		}
		// 3 ms a request at 1 ms apart on 1 server, at most 2 in flight.
		o, err = Run(context.Background(), sim{[]time.Duration{3 * time.Millisecond}}, Options{Schedule: sched, Servers: 1, MaxInFlight: 2, Spin: -1, Records: true})
		if err != nil {
			t.Fatal(err)
		}
	})
	name, err := writeRecords(dir, "seq/qps=1000", o, recordCols{Each: 3})
	if err != nil || name != "records-seq_qps-1000.parquet" {
		t.Fatalf("wrote %q, %v", name, err)
	}
	tbl := pqtest.ReadFile(t, filepath.Join(dir, name))
	if int(tbl.NumRows()) != o.Completed || o.Dropped == 0 {
		t.Fatalf("%d rows, %d completed, %d dropped", tbl.NumRows(), o.Completed, o.Dropped)
	}
	col := func(i int) *array.Float64 { return tbl.Column(i).Data().Chunk(0).(*array.Float64) }
	req := tbl.Column(1).Data().Chunk(0).(*array.Int64)
	size := tbl.Column(8).Data().Chunk(0).(*array.Int32)
	for r := range int(tbl.NumRows()) {
		i := int(req.Value(r))
		if size.IsNull(r) || size.Value(r) != 3 {
			t.Fatalf("row %d: rows %d, want request_rows 3", r, size.Value(r))
		}
		at, st, end, q, s := col(2).Value(r), col(3).Value(r), col(4).Value(r), col(5).Value(r), col(6).Value(r)
		if at != o.Schedule[i].Seconds() || end != o.Ends[i].Seconds() || math.Abs(s-0.003) > 1e-9 || math.Abs(q+s-(end-at)) > 1e-9 || st < at {
			t.Fatalf("row %d (request %d): scheduled %g start %g end %g queue %g service %g", r, i, at, st, end, q, s)
		}
	}
}
