package tune

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// serving is a synthetic serving machine of 4 cores: a request costs 1 ms
// of arithmetic that intra-op threads speed up sub-linearly; sessions
// (workers) multiply capacity; the batcher amortises a fixed per-call
// overhead over its batch (up to 8 requests pay) but adds its wait to
// p99; a shared session loses a little. A point sustains 80% of its
// capacity within the SLO; the search brackets that within 10%.
type serving struct{ calls int }

func (f *serving) truth(p Point) (maxQPS, p99, cores float64) {
	call := 0.3e-3 + 1e-3/math.Pow(float64(p.Shape.Threads), 0.8)
	capacity := float64(p.Shape.Workers) / call
	p99 = 3 * call
	if p.Strategy == "batcher" {
		n := math.Min(float64(p.Params.Int("max_batch")), 8)
		capacity = float64(p.Shape.Workers) * n / (0.3e-3 + n*1e-3/math.Pow(float64(p.Shape.Threads), 0.8))
		p99 += delayOf(p).Seconds()
		if delayOf(p) > 2*time.Millisecond {
			capacity *= 0.95 // long waits cost a little under the SLO
		}
	}
	if p.Strategy == "goroutines" {
		capacity *= 0.9
	}
	if p.Spinning {
		p99 *= 0.9
	}
	return 0.8 * capacity, p99, float64(p.Cores())
}

func (f *serving) Measure(_ context.Context, _ int, pts []Point) ([]Measurement, error) {
	f.calls++
	var out []Measurement
	for _, p := range pts {
		q, p99, cores := f.truth(p)
		out = append(out, Measurement{Point: p, Status: "ok", RowsPerSecond: q / 0.8, P99: p99, CoresBusy: cores,
			MaxQPS: q, MaxQPSHi: q * 1.1, P99QPS: 100})
	}
	return out, nil
}

// serverSpace is the server space of a 4-core machine with the real
// strategies' keys.
func serverSpace(t *testing.T, set Settings) *Space {
	t.Helper()
	reg := strategy.Default()
	sp, err := set.Derive(Machine{LogicalCores: 4, PhysicalCores: 4, Registry: reg, NeedsORT: true})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func serverSettings(t *testing.T, raw map[string]any) Settings {
	t.Helper()
	set, err := DecodeServer(raw, SLO{Percentile: 99, Latency: 20 * time.Millisecond}, keyErrf)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestServerSpace: no batch axis, the batcher with its max_batch ×
// max_delay (a twentieth and a fifth of the SLO by default), the other
// strategies without them; a strategy that cannot serve is refused.
func TestServerSpace(t *testing.T) {
	sp := serverSpace(t, serverSettings(t, nil))
	if !slices.Equal(sp.Batches(), []int{0}) || !slices.Equal(sp.Axes["max_delay"], []any{"1ms", "4ms"}) {
		t.Fatalf("batches %v, max_delay %v", sp.Batches(), sp.Axes["max_delay"])
	}
	batchers := 0
	for _, p := range sp.Points() {
		switch {
		case p.Batch != 0:
			t.Errorf("%s has a batch size", p)
		case p.Strategy == "batcher":
			batchers++
			if p.Params.Int("max_batch") < 1 || on(p, "affinity") {
				t.Errorf("batcher point %s", p.Key())
			}
		case p.Params.Int("max_batch") != 0 || delayOf(p) != 0:
			t.Errorf("%s has the batcher's settings", p.Key())
		}
	}
	// workers × threads ≤ 4: (1,1) (1,2) (1,4) (2,1) (2,2) (4,1) = 6
	// shapes; spinning both ways with > 1 thread; 3 batches × 2 waits.
	if want := (1 + 2 + 2 + 1 + 2 + 1) * 3 * 2; batchers != want {
		t.Errorf("%d batcher points, want %d", batchers, want)
	}
	if !strings.Contains(sp.Describe(), "max_batch [4 16 64] × max_delay [1ms 4ms]") {
		t.Errorf("describe: %s", sp.Describe())
	}
	// The batcher's neighbours move along its own axes too.
	var moves []string
	for _, c := range sp.Neighbours(pt(t, "batcher", "workers", 1, "threads", 2, "max_batch", 16, "max_delay", time.Millisecond)) {
		moves = append(moves, c.Move.String())
	}
	for _, want := range []string{"max_batch ↑", "max_batch ↓", "max_delay ↑", "strategy intra-op"} {
		if !slices.Contains(moves, want) {
			t.Errorf("moves %v lack %q", moves, want)
		}
	}

	set := serverSettings(t, map[string]any{"strategies": []any{"batcher", "pipeline"}})
	reg := strategy.Default()
	_, err := set.Derive(Machine{LogicalCores: 4, PhysicalCores: 4, Registry: reg, NeedsORT: true})
	if err == nil || !strings.Contains(err.Error(), "tune.strategies: pipeline has no serving side") {
		t.Errorf("pipeline under server load: %v", err)
	}
}

// TestServerTuneRecommends: on the synthetic serving machine the climb
// follows max_qps_under_slo to within the search's precision of the
// grid's best, every objective (the fourth included) gets a confirmed
// recommendation, and the why lines speak of the QPS within the SLO.
func TestServerTuneRecommends(t *testing.T) {
	set := serverSettings(t, nil)
	set.Budget = time.Hour
	sp := serverSpace(t, set)
	f := &serving{}
	st, err := runTune(t, sp, set, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := st.Result
	if !res.Server || res.Objective != ObjectiveMaxQPS || res.SLO != "p99 ≤ 20ms" {
		t.Fatalf("result: server %v, objective %s, slo %q", res.Server, res.Objective, res.SLO)
	}
	var objs []string
	for _, r := range res.Recommendations {
		objs = append(objs, r.Objective)
		if !r.Confirmed {
			t.Errorf("%s not confirmed: %+v", r.Objective, r)
		}
	}
	if !slices.Equal(objs, ServerObjectives) {
		t.Fatalf("objectives %v, want %v", objs, ServerObjectives)
	}
	bestQ := 0.0
	var best Point
	for _, p := range sp.Points() {
		if q, _, _ := f.truth(p); q > bestQ {
			best, bestQ = p, q
		}
	}
	rec := res.Recommendations[3]
	got, _, _ := f.truth(rec.Point)
	t.Logf("grid %d, visited %d; best %s %.0f, got %s %.0f (%s)", res.Grid, res.Visited, best, bestQ, rec.Point, got, intervalText(res, rec, "–"))
	if got < bestQ/1.1 {
		t.Errorf("max_qps_under_slo recommends %s at %.0f req/s, beyond the search's 10%% of %s at %.0f", rec.Point, got, best, bestQ)
	}
	if rec.Value != rec.MaxQPS || rec.Lo != rec.Value || math.Abs(rec.Hi-1.1*rec.Value) > 1e-6*rec.Value {
		t.Errorf("max QPS %v with bracket %v–%v, want the search's own", rec.Value, rec.Lo, rec.Hi)
	}
	if 2*res.Visited >= res.Grid {
		t.Errorf("visited %d of %d points", res.Visited, res.Grid)
	}
	why := strings.Join(res.Why, "\n")
	if !strings.Contains(why, "the highest QPS within p99 ≤ 20ms") {
		t.Errorf("why lines:\n%s", why)
	}
	if len(res.Front) == 0 || res.Front[0].MaxQPS < res.Front[len(res.Front)-1].MaxQPS {
		t.Errorf("front %+v: want it by max QPS, highest first", res.Front)
	}
	var sum strings.Builder
	Summary(&sum, st)
	for _, want := range []string{"server load, SLO p99 ≤ 20ms", "best max_qps_under_slo", "req/s within p99 ≤ 20ms (the search's bracket", "Pareto front (max QPS within the SLO"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	var html strings.Builder
	if err := Report(&html, "t", st); err != nil || !strings.Contains(html.String(), "max req/s within the SLO") {
		t.Errorf("report: %v", err)
	}
}

// collapsing is the serving machine whose confirmation step draws the
// one-sided noise of a shared machine: the point given collapses to a
// hundredth of its max QPS there (a spike at a low load failed its SLO).
type collapsing struct {
	serving
	point Point
}

func (f *collapsing) Measure(ctx context.Context, step int, pts []Point) ([]Measurement, error) {
	ms, err := f.serving.Measure(ctx, step, pts)
	if step > 0 && len(pts) > 2 {
		for i := range ms {
			if ms[i].Point.Same(f.point) {
				ms[i].MaxQPS, ms[i].MaxQPSHi = ms[i].MaxQPS/100, ms[i].MaxQPS/100*1.1
			}
		}
	}
	return ms, err
}

// TestServerRecommendsThroughCollapse: a collapse of the winner in the
// confirmation step does not hand the recommendation to a worse point —
// a point is ranked by the median of its searches.
func TestServerRecommendsThroughCollapse(t *testing.T) {
	set := serverSettings(t, nil)
	set.Budget = time.Hour
	sp := serverSpace(t, set)
	st, err := runTune(t, sp, set, &serving{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	winner := st.Result.Recommendations[3].Point
	st2, err := runTune(t, sp, set, &collapsing{point: winner}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := st2.Result.Recommendations[3]; !got.Point.Same(winner) || !got.Confirmed {
		t.Errorf("with the winner collapsing in the confirmation: %s (confirmed %v), want %s", got.Point, got.Confirmed, winner)
	}
}

// TestServerConstraints: under server load the constraints bind the
// recommendations as offline — p99 at the fixed load, throughput, cores.
func TestServerConstraints(t *testing.T) {
	set := serverSettings(t, map[string]any{"max_p99": "3ms", "max_cores": 2, "min_throughput": 1000})
	set.Budget = time.Hour
	sp := serverSpace(t, set)
	for _, p := range sp.Points() {
		if p.Cores() > 2 {
			t.Fatalf("max_cores 2, but the space holds %s", p)
		}
	}
	f := &serving{}
	st, err := runTune(t, sp, set, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Result.Infeasible != "" || len(st.Result.Recommendations) != 4 {
		t.Fatalf("infeasible %q, %d recommendations", st.Result.Infeasible, len(st.Result.Recommendations))
	}
	for _, r := range st.Result.Recommendations {
		q, p99, _ := f.truth(r.Point)
		if p99 > 3e-3 || q/0.8 < 1000 || r.Point.Cores() > 2 {
			t.Errorf("%s recommends %s: p99 %s, %.0f rows/s, %d cores", r.Objective, r.Point, results.Dur(p99), q/0.8, r.Point.Cores())
		}
	}
	// An SLO-bound batcher with a long wait misses max_p99: the max-QPS
	// winner is not the unconstrained one.
	free := serverSettings(t, nil)
	free.Budget = time.Hour
	fst, err := runTune(t, serverSpace(t, free), free, &serving{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fst.Result.Recommendations[3].Point.Same(st.Result.Recommendations[3].Point) {
		t.Errorf("the constraints changed nothing: %s both ways", fst.Result.Recommendations[3].Point)
	}

	set.MaxP99 = time.Microsecond
	st, err = runTune(t, sp, set, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Result.Recommendations) != 0 || !strings.Contains(st.Result.Infeasible, "max_p99 1µs binds") {
		t.Errorf("want max_p99 named as binding, got %q", st.Result.Infeasible)
	}
}

// TestServerBadInput: a server tune without an SLO, with max_rss or
// batch_sizes, and the server-only settings offline are one-line errors
// naming the key.
func TestServerBadInput(t *testing.T) {
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line containing %q", name, err, want)
		}
	}
	_, err := DecodeServer(nil, SLO{}, keyErrf)
	check("no slo", err, "load.slo: a server tune needs an SLO")
	slo := SLO{Percentile: 99, Latency: 20 * time.Millisecond}
	_, err = DecodeServer(map[string]any{"max_rss": "1GiB"}, slo, keyErrf)
	check("max_rss", err, "tune.max_rss: server cells record no peak RSS")
	_, err = DecodeServer(map[string]any{"batch_sizes": []any{1, 4}}, slo, keyErrf)
	check("batch_sizes", err, "tune.batch_sizes: server load sends load.request_rows rows per request")
	derive := func(set Settings, err error) error {
		if err != nil {
			return err
		}
		_, err = set.Derive(Machine{LogicalCores: 4, PhysicalCores: 4, Registry: strategy.Default(), NeedsORT: true})
		return err
	}
	check("max_batch 0", derive(DecodeServer(map[string]any{"max_batch": []any{0, 8}}, slo, keyErrf)), "max_batch: every value must be ≥ 1")
	check("max_batch 5000", derive(DecodeServer(map[string]any{"max_batch": 5000}, slo, keyErrf)), "max_batch: every value must be at most 4096")
	check("max_delay word", derive(DecodeServer(map[string]any{"max_delay": "forever"}, slo, keyErrf)), "tune.max_delay")
	_, err = DecodeServer(map[string]any{"objective": "qps"}, slo, keyErrf)
	check("objective", err, "want one of throughput, p99, per_core, max_qps_under_slo")
	_, err = Decode(map[string]any{"objective": ObjectiveMaxQPS}, keyErrf)
	check("offline max qps", err, "max_qps_under_slo needs server load")
	for _, tc := range []struct {
		name string
		load config.LoadSection
		want string
	}{
		{"stages", config.LoadSection{Scenario: "server", Stages: []config.Stage{{QPS: config.IntList{100}, Duration: time.Second}}}, "load.stages: a server tune ranks each point by its SLO search"},
		{"concurrency", config.LoadSection{Scenario: "server", Concurrency: config.IntList{4}}, "load.concurrency: a server tune ranks each point by its highest open-loop QPS"},
		{"arrivals", config.LoadSection{Scenario: "server", Arrival: config.StringList{"poisson", "gamma"}, QPS: config.IntList{100}}, "load.arrival: a server tune ranks each point by one search, under one arrival pattern"},
	} {
		check(tc.name, serverLoad(tc.load, keyErrf), tc.want)
	}
	if err := serverLoad(config.LoadSection{Scenario: "server", Arrival: config.StringList{"gamma"}, QPS: config.IntList{100}, Trace: "t.csv", Records: true, MaxInFlight: 8}, keyErrf); err != nil {
		t.Errorf("qps, trace, records, max_in_flight: %v", err)
	}
	check("offline max_batch", derive(Decode(map[string]any{"max_batch": 8}, keyErrf)), "the batcher's, which serves requests only")

	got := serverSettings(t, map[string]any{"max_batch": 8, "max_delay": "2ms", "objective": "p99"})
	sp := serverSpace(t, got)
	if !slices.Equal(sp.Axes["max_batch"], []any{int64(8)}) || !slices.Equal(sp.Axes["max_delay"], []any{"2ms"}) || got.Objective != ObjectiveP99 {
		t.Errorf("decoded %+v: max_batch %v, max_delay %v", got, sp.Axes["max_batch"], sp.Axes["max_delay"])
	}
}

// TestFromServerCells: a point's figures from runner/serve's cells — the
// SLO search's max QPS and its bracket, p99 at the first fixed load, the
// most rows/s served at any load; a search that met no load fails.
func TestFromServerCells(t *testing.T) {
	p := pt(t, "batcher", "workers", 1, "threads", 2, "max_batch", 16, "max_delay", time.Millisecond)
	name := "batcher/workers=1"
	fixed := results.Cell{Name: name + "/qps=250", Status: results.StatusOK, RowsPerSecond: 250,
		Latency: results.Latency{P99: 0.004}, Serving: &results.Serving{TargetQPS: 250}}
	slo := results.Cell{Name: name + "/slo_search", Status: results.StatusOK, RowsPerSecond: 2000, Latency: results.Latency{P99: 0.015},
		CPU: results.CPU{CoresBusy: 1.5}, Serving: &results.Serving{TargetQPS: 2000, Search: &results.Search{MaxSustainableQPS: 2000, Steps: []results.SearchStep{
			{QPS: 250, AchievedQPS: 249, Passed: true}, {QPS: 4000, AchievedQPS: 3100, FailedRule: "saturated"},
			{QPS: 2000, AchievedQPS: 1990, Passed: true}, {QPS: 3000, AchievedQPS: 2900, FailedRule: "early_stopping"}}}}}
	other := results.Cell{Name: "batcher/workers=10/slo_search", Status: results.StatusFailed}
	m := fromServerCells(p, name, []results.Cell{other, fixed, slo}, []int{250}, 1)
	if !m.Measured() || m.MaxQPS != 2000 || m.MaxQPSHi != 3000 || m.P99 != 0.004 || m.P99QPS != 250 || m.RowsPerSecond != 3100 || m.CoresBusy != 1.5 {
		t.Errorf("measurement %+v", m)
	}
	// A sized trace: rows/s from the requests' mean size, not request_rows.
	sized, sv := slo, *slo.Serving
	sv.RequestRowsMean = 3
	sized.Serving = &sv
	if m := fromServerCells(p, name, []results.Cell{fixed, sized}, []int{250}, 1); m.RowsPerSecond != 9300 {
		t.Errorf("sized trace: rows/s %g, want 3100 req/s × 3 rows", m.RowsPerSecond)
	}
	failed := slo
	failed.Status, failed.Error = results.StatusFailed, "no load met the SLO: the lowest tried broke early_stopping"
	failed.Serving = &results.Serving{Search: &results.Search{}}
	m = fromServerCells(p, name, []results.Cell{fixed, failed}, []int{250}, 1)
	if m.Measured() || !strings.Contains(m.Error, "no load met the SLO") {
		t.Errorf("failed search: %+v", m)
	}
	m = fromServerCells(p, name, []results.Cell{{Name: name + "/qps=250", Status: results.StatusFailed, Error: "start-up: boom"}}, []int{250}, 1)
	if m.Measured() || m.Error != "start-up: boom" {
		t.Errorf("failed start: %+v", m)
	}
}

// TestServerWinnerConfig: a batcher winner of configs/tune-serving.yaml
// is a server config that loads and expands into its one batcher cell,
// with its max_batch and max_delay, and its Go snippet says how to batch.
func TestServerWinnerConfig(t *testing.T) {
	path, err := filepath.Abs(filepath.Join("..", "..", "configs", "tune-serving.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := pt(t, "batcher", "workers", 1, "threads", 2, "max_batch", 16, "max_delay", time.Millisecond, "spinning", true)
	rec := Recommendation{Objective: ObjectiveMaxQPS, Point: p, MaxQPS: 3200, P99: 0.004}
	res := &Result{Server: true, SLO: "p99 ≤ 20ms", Visited: 9, Grid: 34}
	sp := serverSpace(t, serverSettings(t, nil))
	data, err := WinnerConfig(NewOrigin(c, sp), rec, res)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "at most 3.2k req/s within p99 ≤ 20ms") {
		t.Errorf("head:\n%s", data)
	}
	again, err := config.Load(path, data, nil)
	if err != nil {
		t.Fatalf("winner config does not load: %v\n%s", err, data)
	}
	plan, err := config.Expand(again, strategy.Default(), config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatalf("winner config does not expand: %v\n%s", err, data)
	}
	if !again.Load.Server() || again.Tune != nil || len(plan.Cells) != 1 {
		t.Fatalf("winner: server %v, tune %v, %d cells\n%s", again.Load.Server(), again.Tune, len(plan.Cells), data)
	}
	cell := plan.Cells[0]
	sv, ok := strategy.ServingOf(cell.Config)
	if cell.Strategy != "batcher" || !ok || sv.MaxBatch != 16 || sv.MaxDelay != time.Millisecond || cell.Config.Shape().Threads != 2 || sv.Servers != 1 {
		t.Errorf("winner cell %s: %+v", cell.Name, sv)
	}
	src, err := SessionSnippet(sp.Registry, NewOrigin(c, sp), rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MaxBatch = 16", "MaxDelay = 1000 * time.Microsecond", "BatchSize  = 1", "SetIntraOpNumThreads(2)"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("snippet lacks %q:\n%s", want, src)
		}
	}
	// The point's key and words carry the batcher's settings.
	if !strings.Contains(p.Key(), "/max_batch=16/max_delay=1ms") || p.String() != "batcher 1×2, max_batch=16, max_delay=1ms, spinning" {
		t.Errorf("key %s, words %s", p.Key(), p)
	}
}

// TestServerResume: a server tune interrupted after two steps resumes from
// its checkpoint (the max QPS and brackets kept in it) and ends where the
// uninterrupted one ends.
func TestServerResume(t *testing.T) {
	set := serverSettings(t, nil)
	set.Budget = time.Hour
	sp := serverSpace(t, set)
	full, err := runTune(t, sp, set, &serving{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var saved []byte
	ckpt := func(s *State) error {
		b, err := marshalState(s)
		saved = b
		return err
	}
	if _, err := runTune(t, sp, set, &errAfter{inner: &serving{}, n: 2}, nil, ckpt); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	prev, err := unmarshalState(saved)
	if err != nil {
		t.Fatal(err)
	}
	if m := prev.Steps[0].Measurements[0]; m.MaxQPS <= 0 || m.MaxQPSHi <= m.MaxQPS {
		t.Fatalf("checkpoint lost the search's figures: %+v", m)
	}
	f := &serving{}
	resumed, err := runTune(t, sp, set, f, prev, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	got, want := resumed.Result.Recommendations[3], full.Result.Recommendations[3]
	if !got.Point.Same(want.Point) || got.Value != want.Value || resumed.Result.Visited != full.Result.Visited || f.calls != len(resumed.Steps)-2 {
		t.Errorf("resumed: %s %.0f after %d points (%d calls), uninterrupted: %s %.0f after %d", got.Point, got.Value, resumed.Result.Visited, f.calls, want.Point, want.Value, full.Result.Visited)
	}
}
