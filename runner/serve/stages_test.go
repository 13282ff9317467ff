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
	"github.com/ortbench/ortbench/runner/load"
)

// rampToSaturation: 200/s, a ramp 200 → 1000/s, then 300/s, for one
// server of 2 ms a request (500/s) on a simulated clock, capped at cap in
// flight (0: no cap).
func rampToSaturation(t *testing.T, maxInFlight int) (*Outcome, load.Stages) {
	t.Helper()
	st := load.Stages{{From: 200, To: 200, Duration: 4 * time.Second}, {From: 200, To: 1000, Duration: 4 * time.Second}, {From: 300, To: 300, Duration: 4 * time.Second}}
	var o *Outcome
	synctest.Test(t, func(t *testing.T) {
		p, err := load.Default().Pacer("poisson", load.Spec{Rate: 1, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		sched, err := load.StageSchedule(p, st)
		if err != nil {
			t.Fatal(err)
		}
		o, err = Run(context.Background(), sim{[]time.Duration{2 * time.Millisecond}}, Options{Schedule: sched, Servers: 1, Spin: -1,
			Records: true, MaxInFlight: maxInFlight, Drain: 10 * time.Second, SLO: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
	})
	return o, st
}

// TestStagesFigures: each stage's offered rate is within Poisson's error
// of its target, the stage below capacity keeps up, the ramp past it is
// saturated with a tail far above the first stage's, and the counts add
// up to the whole load's.
func TestStagesFigures(t *testing.T) {
	o, st := rampToSaturation(t, 0)
	fig := stageFigures(stageOutcomes(o, st, 50*time.Millisecond), st, Limits{Percentile: 99, Latency: 50 * time.Millisecond}, []float64{50, 90, 99, 99.9})
	if len(fig) != 3 {
		t.Fatalf("%d stages", len(fig))
	}
	var requests, completed int
	for k, f := range fig {
		want := (f.FromQPS + f.ToQPS) / 2
		n := want * f.DurationSeconds
		if math.Abs(f.OfferedQPS-want) > 4*math.Sqrt(n)/f.DurationSeconds {
			t.Errorf("stage %d: offered %.1f/s, want %.0f ± %.1f", k+1, f.OfferedQPS, want, 4*math.Sqrt(n)/f.DurationSeconds)
		}
		requests += f.Requests
		completed += f.Completed
		if f.SLO == nil {
			t.Fatalf("stage %d: no SLO figures", k+1)
		}
	}
	if requests != o.Requests || completed != o.Completed {
		t.Errorf("stages hold %d requests (%d completed), the load %d (%d)", requests, completed, o.Requests, o.Completed)
	}
	first, ramp := fig[0], fig[1]
	if first.Saturated || !first.SLO.Met || math.Abs(first.AchievedQPS-first.OfferedQPS) > 0.05*first.OfferedQPS || first.SLO.GoodFraction < 0.99 {
		t.Errorf("stage 1 below capacity: %+v %+v", first, *first.SLO)
	}
	if !ramp.Saturated || ramp.SLO.Met || ramp.Latency.P99 < 10*first.Latency.P99 || ramp.SLO.GoodputQPS >= ramp.OfferedQPS {
		t.Errorf("the ramp past capacity: saturated %v (%s), p99 %g vs %g, goodput %.0f of %.0f", ramp.Saturated, ramp.SaturatedReason,
			ramp.Latency.P99, first.Latency.P99, ramp.SLO.GoodputQPS, ramp.OfferedQPS)
	}
}

// TestStagesDropsAndRecords: with a cap the ramp's overflow is dropped
// and counted in its own stage, and the records' stage column puts each
// request in the stage its arrival fell in.
func TestStagesDropsAndRecords(t *testing.T) {
	o, st := rampToSaturation(t, 4)
	outs := stageOutcomes(o, st, 0)
	if outs[0].Dropped > outs[0].Requests/100 || outs[1].Dropped == 0 || outs[0].Dropped+outs[1].Dropped+outs[2].Dropped != o.Dropped {
		t.Errorf("dropped %d, %d, %d of the load's %d", outs[0].Dropped, outs[1].Dropped, outs[2].Dropped, o.Dropped)
	}
	dir := t.TempDir()
	name, err := writeRecords(dir, "seq/stages=3", o, recordCols{Stage: load.StageOf(o.Schedule, st.Bounds()), Sized: sizes(len(o.Ends))})
	if err != nil {
		t.Fatal(err)
	}
	tbl := pqtest.ReadFile(t, filepath.Join(dir, name))
	if tbl.Schema().Field(7).Name != "stage" || int(tbl.NumRows()) != o.Completed {
		t.Fatalf("schema %v, %d rows for %d completed", tbl.Schema(), tbl.NumRows(), o.Completed)
	}
	at := tbl.Column(2).Data().Chunk(0).(*array.Float64)
	stage := tbl.Column(7).Data().Chunk(0).(*array.Int32)
	req := tbl.Column(1).Data().Chunk(0).(*array.Int64)
	size := tbl.Column(8).Data().Chunk(0).(*array.Int32)
	b := st.Bounds()
	seen := map[int32]int{}
	for r := range int(tbl.NumRows()) {
		if want := 1 + int32(req.Value(r)%7); size.Value(r) != want {
			t.Fatalf("row %d (request %d): rows %d, want its size %d", r, req.Value(r), size.Value(r), want)
		}
		k := stage.Value(r)
		if k < 1 || k > 3 || at.Value(r) < b[k-1].Seconds() || at.Value(r) >= b[k].Seconds() {
			t.Fatalf("row %d: arrival %gs in stage %d", r, at.Value(r), k)
		}
		seen[k]++
	}
	for k := range 3 {
		if seen[int32(k+1)] != outs[k].Completed {
			t.Errorf("stage %d: %d rows, %d completed", k+1, seen[int32(k+1)], outs[k].Completed)
		}
	}
}

// sizes is n requests' sizes, 1..7 in turn (a sized trace's layout).
func sizes(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = 1 + int32(i%7)
	}
	return out
}
