package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// pt is strategy name with the given keys (key, value, …) as a canonical
// point of the real registry.
func pt(t *testing.T, name string, kv ...any) Point {
	t.Helper()
	values := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		if d, ok := v.(time.Duration); ok {
			v = d.String()
		}
		values[kv[i].(string)] = v
	}
	p, _, err := NewPoint(strategy.Default(), name, values, strategy.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// on reports a bool key of p (false when p's strategy lacks it).
func on(p Point, key string) bool { v, _ := p.Params.Get(key); return v == true }

// delayOf is p's max_delay (0 without one).
func delayOf(p Point) time.Duration {
	d, _ := time.ParseDuration(p.Params.String("max_delay"))
	return d
}

// surface is a synthetic cost model of a 16-core machine (8 physical):
// a call of b rows costs a fixed overhead plus b rows of arithmetic that
// intra-op threads speed up sub-linearly; workers multiply throughput up
// to the physical cores, beyond which they contend; spinning trims p99,
// pinning helps a little, a shared session loses a little.
type surface struct {
	overhead, perRow float64 // seconds
	noise            float64 // relative sd per round
	drift            float64 // relative sd per step (the machine's load changing)
	rng              *rand.Rand
	calls            int
	measured         map[string]int
}

func (f *surface) truth(p Point) (rate, p99 float64) {
	eff := math.Pow(float64(p.Shape.Threads), 0.9)
	// Rows beyond 256 a call fall out of cache.
	call := f.overhead + float64(p.Batch)*f.perRow*(1+float64(p.Batch)/512)/eff
	cores := float64(p.Cores())
	contention := 1.0
	if cores > 8 {
		contention = 8 / cores * 0.9
	}
	// Sessions share memory bandwidth: beyond 4 workers each adds less.
	workers := math.Min(float64(p.Shape.Workers), 4) + 0.3*math.Max(float64(p.Shape.Workers)-4, 0)
	rate = workers * float64(p.Batch) / call * contention
	p99 = call * 1.5 / contention
	if p.Spinning {
		p99 *= 0.8
		rate *= 1.03
	}
	if on(p, "affinity") {
		rate *= 1.02
	}
	if p.Strategy == "goroutines" {
		rate *= 0.95
	}
	return rate, p99
}

func (f *surface) Measure(_ context.Context, _ int, pts []Point) ([]Measurement, error) {
	f.calls++
	drift := 1.0
	if f.drift > 0 {
		drift = math.Exp(f.rng.NormFloat64() * f.drift)
	}
	var out []Measurement
	for _, p := range pts {
		if f.measured != nil {
			f.measured[p.Key()]++
		}
		rate, p99 := f.truth(p)
		m := Measurement{Point: p, Status: "ok", PeakRSS: uint64(50<<20 + p.Shape.Workers*(20<<20)), CoresBusy: float64(p.Cores())}
		var rates []float64
		for r := 1; r <= 6; r++ {
			n := 1.0
			if f.noise > 0 {
				n = math.Exp(f.rng.NormFloat64() * f.noise)
			}
			m.Rounds = append(m.Rounds, results.Repetition{Round: r, RowsPerSecond: rate * drift * n, P99Seconds: p99 / drift / n})
			rates = append(rates, rate*drift*n)
		}
		slices.Sort(rates)
		m.RowsPerSecond, m.P99 = (rates[2]+rates[3])/2, p99/drift
		m.Lo, m.Hi = rates[0], rates[5]
		out = append(out, m)
	}
	return out, nil
}

func bigSpace(t *testing.T) *Space {
	t.Helper()
	s := DefaultSettings()
	sp, err := s.Derive(Machine{LogicalCores: 16, PhysicalCores: 8, Rows: 100000, Registry: strategy.Default(), NeedsORT: true})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func bruteBest(f *surface, sp *Space) (Point, float64) {
	var best Point
	bv := 0.0
	for _, p := range sp.Points() {
		if r, _ := f.truth(p); r > bv {
			best, bv = p, r
		}
	}
	return best, bv
}

func runTune(t *testing.T, sp *Space, set Settings, m Measurer, prev *State, ckpt func(*State) error) (*State, error) {
	t.Helper()
	clock := time.Unix(0, 0)
	tu := &Tuner{Space: sp, Settings: set, Facts: Facts{LogicalCores: 16, PhysicalCores: 8, FlopsPerRow: 2_000_000}, Measurer: m, Checkpoint: ckpt,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
	return tu.Run(context.Background(), prev, "test")
}

// TestSearchFindsOptimum: on a known surface, exact and noisy (with drift
// between steps), the recommendation is within 5% of the grid's best while
// visiting less than a third of the grid.
func TestSearchFindsOptimum(t *testing.T) {
	for _, tc := range []struct {
		name         string
		noise, drift float64
		seed         uint64
	}{{"exact", 0, 0, 1}, {"noisy", 0.05, 0.15, 2}, {"noisy-2", 0.05, 0.15, 3}, {"noisy-3", 0.08, 0.3, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			sp := bigSpace(t)
			f := &surface{overhead: 20e-6, perRow: 2e-6, noise: tc.noise, drift: tc.drift, rng: rand.New(rand.NewPCG(tc.seed, 7))}
			set := DefaultSettings()
			set.Budget = time.Hour
			st, err := runTune(t, sp, set, f, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			res := st.Result
			opt, optRate := bruteBest(f, sp)
			got, _ := f.truth(res.Recommendations[0].Point)
			t.Logf("grid %d, visited %d (%.0f%%), stop: %s; best %s %.0f, got %s %.0f", res.Grid, res.Visited, res.VisitedPct, res.StopReason, opt, optRate, res.Recommendations[0].Point, got)
			if got < 0.95*optRate {
				t.Errorf("recommended %s at %.0f rows/s, more than 5%% below the optimum %s at %.0f", res.Recommendations[0].Point, got, opt, optRate)
			}
			if 3*res.Visited >= res.Grid {
				t.Errorf("visited %d of %d points: not less than a third", res.Visited, res.Grid)
			}
			if res.Recommendations[0].Objective != ObjectiveThroughput || !res.Recommendations[0].Confirmed {
				t.Errorf("first recommendation %+v: want a confirmed throughput one", res.Recommendations[0])
			}
			if len(res.Front) == 0 || len(res.Why) == 0 {
				t.Errorf("front %v, why %v: want both", res.Front, res.Why)
			}
		})
	}
}

// TestConstraintsRespected: no recommended point violates a constraint;
// when none can, the result says which binds.
func TestConstraintsRespected(t *testing.T) {
	sp := bigSpace(t)
	f := &surface{overhead: 20e-6, perRow: 2e-6, rng: rand.New(rand.NewPCG(1, 1))}
	set := DefaultSettings()
	set.MaxP99 = 200 * time.Microsecond
	set.MaxRSS = 100 << 20
	st, err := runTune(t, sp, set, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Result.Infeasible != "" {
		t.Fatalf("infeasible: %s", st.Result.Infeasible)
	}
	for _, r := range st.Result.Recommendations {
		rate, p99 := f.truth(r.Point)
		if p99 > set.MaxP99.Seconds() || uint64(50<<20+r.Point.Shape.Workers*(20<<20)) > uint64(set.MaxRSS) {
			t.Errorf("%s recommends %s: p99 %s, rss workers %d beyond the constraints (rate %.0f)", r.Objective, r.Point, results.Dur(p99), r.Point.Shape.Workers, rate)
		}
	}
	for _, p := range st.Result.Front {
		if len(p.Violates) > 0 {
			t.Errorf("front point %s violates %v", p.Point, p.Violates)
		}
	}

	set.MaxP99 = time.Microsecond
	st, err = runTune(t, sp, set, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Result.Recommendations) != 0 || !strings.Contains(st.Result.Infeasible, "max_p99 1µs binds: the lowest p99 measured is") {
		t.Fatalf("want no recommendation and max_p99 named as binding, got %+v / %q", st.Result.Recommendations, st.Result.Infeasible)
	}
}

// errAfter fails the nth Measure call, as an interrupt would.
type errAfter struct {
	inner Measurer
	n     int
}

func (e *errAfter) Measure(ctx context.Context, step int, pts []Point) ([]Measurement, error) {
	if e.n == 0 {
		return nil, context.Canceled
	}
	e.n--
	return e.inner.Measure(ctx, step, pts)
}

// TestResume: a tune interrupted after some steps resumes from its
// checkpoint, measures no finished point again, and ends where an
// uninterrupted tune ends.
func TestResume(t *testing.T) {
	sp := bigSpace(t)
	set := DefaultSettings()
	set.Budget = time.Hour
	whole := &surface{overhead: 20e-6, perRow: 2e-6, rng: rand.New(rand.NewPCG(9, 9))}
	full, err := runTune(t, sp, set, whole, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	f := &surface{overhead: 20e-6, perRow: 2e-6, rng: rand.New(rand.NewPCG(9, 9)), measured: map[string]int{}}
	var saved []byte
	ckpt := func(s *State) error {
		b, err := marshalState(s)
		saved = b
		return err
	}
	_, err = runTune(t, sp, set, &errAfter{inner: f, n: 4}, nil, ckpt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted tune: err %v, want context.Canceled", err)
	}
	prev, err := unmarshalState(saved)
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.Steps) != 4 || prev.Done {
		t.Fatalf("checkpoint has %d steps (done %v), want 4 unfinished", len(prev.Steps), prev.Done)
	}
	before := f.calls
	firstSteps := map[string]bool{}
	for _, st := range prev.Steps {
		for i, p := range st.Points {
			if i > 0 || st.Kind == KindSeed {
				firstSteps[p.Key()] = true
			}
		}
	}
	f.measured = map[string]int{}
	resumed, err := runTune(t, sp, set, f, prev, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range f.measured {
		// A finished point comes back only as the climb's paired baseline
		// or in the confirmation, never as a new point.
		if firstSteps[k] && n > 0 && !usedAsBaselineOrConfirm(resumed, k, len(prev.Steps)) {
			t.Errorf("%s measured again after the resume", k)
		}
	}
	if f.calls-before != len(resumed.Steps)-len(prev.Steps) {
		t.Errorf("resume made %d calls for %d new steps", f.calls-before, len(resumed.Steps)-len(prev.Steps))
	}
	if resumed.Result.Visited != full.Result.Visited || !resumed.Result.Recommendations[0].Point.Same(full.Result.Recommendations[0].Point) {
		t.Errorf("resumed tune ended at %s after %d points, the uninterrupted one at %s after %d",
			resumed.Result.Recommendations[0].Point, resumed.Result.Visited, full.Result.Recommendations[0].Point, full.Result.Visited)
	}

	// Another config's checkpoint is refused.
	tu := &Tuner{Space: sp, Settings: set, Measurer: f}
	if _, err := tu.Run(context.Background(), prev, "other"); !errors.Is(err, ErrMismatch) {
		t.Errorf("resume with another identity: %v, want ErrMismatch", err)
	}
}

func usedAsBaselineOrConfirm(s *State, key string, from int) bool {
	for _, st := range s.Steps[from:] {
		for i, p := range st.Points {
			if p.Key() == key && (i == 0 || st.Kind == KindConfirm) {
				return true
			}
		}
	}
	return false
}

// TestBadInput: impossible constraints, an empty space and a zero budget
// are one-line errors.
func TestBadInput(t *testing.T) {
	m := Machine{LogicalCores: 2, PhysicalCores: 2, Registry: strategy.Default(), NeedsORT: true}
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line containing %q", name, err, want)
		}
	}
	s := DefaultSettings()
	s.StrategyNames = []string{}
	_, err := s.Derive(m)
	check("no strategies", err, "the space is empty: tune.strategies has no values")

	s = DefaultSettings()
	s.Axes = map[string]any{"workers": []any{4}, "threads": []any{4}}
	s.StrategyNames = []string{"hybrid"}
	_, err = s.Derive(m)
	check("too many threads", err, "the space is empty: every point needs more than 2 threads")

	s = DefaultSettings()
	s.MaxCores = 0.5
	check("max_cores", s.check(), "tune.max_cores 0.5 is impossible")
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		s = DefaultSettings()
		s.MaxCores = v
		check("max_cores non-finite", s.check(), "want 0 (no bound) or a finite number of cores ≥ 1")
		s = DefaultSettings()
		s.MinGain = v
		check("min_gain non-finite", s.check(), "tune.min_gain must be ≥ 0 and < 1")
	}

	s = DefaultSettings()
	s.Budget = 0
	check("budget", s.check(), "budget must be > 0")

	sp := bigSpace(t)
	tu := &Tuner{Space: sp, Settings: s, Measurer: &surface{}}
	_, err = tu.Run(context.Background(), nil, "x")
	check("budget run", err, "budget must be > 0")

	_, err = Decode(map[string]any{"max_p99": "fast"}, keyErrf)
	check("max_p99 word", err, "tune.max_p99")
	s, err = Decode(map[string]any{"bogus": 1}, keyErrf)
	if err == nil {
		_, err = s.Derive(m)
	}
	check("unknown key", err, "unknown key bogus")
	_, err = Decode(map[string]any{"max_rss": "-1MiB"}, keyErrf)
	check("max_rss", err, "want a size > 0")
	got, err := Decode(map[string]any{"max_rss": "512MiB", "max_p99": "5ms", "workers": 2, "budget": "2m"}, keyErrf)
	if err != nil || got.MaxRSS != 512<<20 || got.MaxP99 != 5*time.Millisecond || got.Axes["workers"] != 2 || got.Budget != 2*time.Minute {
		t.Errorf("decode: %+v, %v", got, err)
	}
}

func keyErrf(key, format string, args ...any) error {
	return errors.New("cfg.yaml:1: " + key + ": " + strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// TestCanon: equivalent spellings are one point.
func TestCanon(t *testing.T) {
	for _, tc := range []struct{ in, want Point }{
		{pt(t, "hybrid", "workers", 1, "threads", 2, "batch_size", 8, "spinning", true), pt(t, "intra-op", "threads", 2, "batch_size", 8, "spinning", true)},
		{pt(t, "hybrid", "workers", 2, "threads", 1, "batch_size", 8, "spinning", true), pt(t, "worker-pool", "workers", 2, "batch_size", 8)},
		{pt(t, "goroutines", "workers", 1, "threads", 1, "batch_size", 8), pt(t, "intra-op", "threads", 1, "batch_size", 8)},
		{pt(t, "sequential", "batch_size", 8), pt(t, "intra-op", "threads", 1, "batch_size", 8)},
	} {
		if !tc.in.Same(tc.want) || tc.in.Key() != tc.want.Key() || tc.in.String() != tc.want.String() {
			t.Errorf("canonical %v (%s), want %v (%s)", tc.in, tc.in.Key(), tc.want, tc.want.Key())
		}
	}
	if p := pt(t, "intra-op", "threads", 2, "batch_size", 8, "spinning", true); p.Strategy != "intra-op" || p.Shape.Workers != 1 || p.Shape.Threads != 2 || !p.Spinning {
		t.Errorf("intra-op 1×2 spinning: %+v", p)
	}
}

// TestReport: the HTML report renders a finished tune, charts inline.
func TestReport(t *testing.T) {
	sp := bigSpace(t)
	f := &surface{overhead: 20e-6, perRow: 2e-6, noise: 0.03, rng: rand.New(rand.NewPCG(5, 5))}
	st, err := runTune(t, sp, DefaultSettings(), f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Report(&b, "tune", st); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"<svg", "Pareto front", "points tried over the steps", "throughput</b>", "per-call overhead"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Error("report refers to the network")
	}
}
