package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Measurer measures points. Measure runs pts together — interleaved in
// rounds, so drift of the machine hits them alike — and returns one
// Measurement per point, in order. pts[0] is the step's baseline: every
// other point is compared with it round by round. step numbers the call
// (0-based), for naming what it writes.
//
// The runner's Measurer (RunnerMeasurer) builds a small plan and runs it
// through the real runner; tests use a synthetic cost surface.
type Measurer interface {
	Measure(ctx context.Context, step int, pts []Point) ([]Measurement, error)
}

// Measurement is one point's figures from one step.
type Measurement struct {
	Point Point  `json:"point"`
	Cell  string `json:"cell,omitempty"` // the runner's cell name
	// Status is the runner's word: ok, unstable, failed, skipped. Only ok
	// and unstable points have figures, and only they can be recommended.
	Status        string  `json:"status"`
	Error         string  `json:"error,omitempty"`
	RowsPerSecond float64 `json:"rows_per_second"`
	Lo            float64 `json:"rows_per_second_lo,omitempty"`
	Hi            float64 `json:"rows_per_second_hi,omitempty"`
	P99           float64 `json:"p99_seconds"`
	PeakRSS       uint64  `json:"peak_rss_bytes"`
	// CoresBusy is CPU time ÷ wall time (spinning threads count).
	CoresBusy float64 `json:"cores_busy"`
	Disturbed int     `json:"disturbed_repetitions,omitempty"`
	// Rounds are the runner's repetitions; Round numbers pair points
	// measured in the same step.
	Rounds []results.Repetition `json:"rounds"`
	// Server load only: MaxQPS is the SLO search's highest sustainable
	// QPS, MaxQPSHi the lowest load it saw fail above it (0: none), P99QPS
	// the offered load P99 was measured at.
	MaxQPS   float64 `json:"max_qps_under_slo,omitempty"`
	MaxQPSHi float64 `json:"max_qps_failed_above,omitempty"`
	P99QPS   float64 `json:"p99_at_qps,omitempty"`
}

// Measured reports whether the measurement has figures.
func (m *Measurement) Measured() bool {
	return (m.Status == "ok" || m.Status == "unstable") && m.RowsPerSecond > 0
}

// Step is one call of the Measurer: its points, why each was chosen, and
// what came back. The state is the list of steps.
type Step struct {
	Index        int           `json:"index"`
	Kind         string        `json:"kind"` // seed | climb | confirm
	Points       []Point       `json:"points"`
	Reasons      []string      `json:"reasons"`
	Measurements []Measurement `json:"measurements"`
	At           time.Time     `json:"at"`
	Seconds      float64       `json:"seconds"`
}

// Step kinds.
const (
	KindSeed    = "seed"
	KindClimb   = "climb"
	KindConfirm = "confirm"
)

// StateSchema names the checkpoint format.
const StateSchema = "ortbench/tune/v2"

// State is the checkpoint: written after every step, it is enough to
// resume a tune without measuring a finished point again.
type State struct {
	Schema string `json:"schema"`
	// Identity hashes the space, the constraints and the config: a resume
	// with different ones is refused.
	Identity   string    `json:"identity"`
	StartedAt  time.Time `json:"started_at"`
	Steps      []Step    `json:"steps"`
	Done       bool      `json:"done"`
	StopReason string    `json:"stop_reason,omitempty"`
	Result     *Result   `json:"result,omitempty"`
	// Origin is what the tune's files take from its config and space
	// (nil in a tune.json of an ortbench before it, and in the tests'
	// searches): with it, `ortbench report` remakes them.
	Origin *Origin `json:"origin,omitempty"`
}

// Seconds is the measuring time of the steps so far.
func (s *State) Seconds() float64 {
	var t float64
	for _, st := range s.Steps {
		t += st.Seconds
	}
	return t
}

// Tuner searches a space for the best point under constraints.
type Tuner struct {
	Space    *Space
	Settings Settings
	Facts    Facts
	Measurer Measurer
	// Checkpoint is called with the state after every step (nil: none).
	Checkpoint func(*State) error
	// Log hears one line per step (nil: quiet).
	Log func(format string, args ...any)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Facts are what the seeds are derived from.
type Facts struct {
	LogicalCores  int
	PhysicalCores int
	// FlopsPerRow is the model's arithmetic per row (0: unknown).
	FlopsPerRow int64
}

// ErrMismatch: the checkpoint is of another search.
var ErrMismatch = errors.New("the checkpoint is of another tune")

// search is the state of one run of the algorithm.
type search struct {
	t       *Tuner
	state   *State
	replay  []Step // steps of the checkpoint still to replay
	visited map[string]bool
	order   []Point
	scores  map[string]*estimate
	gains   map[string]float64 // sum of log gains per move (axis+dir)
	started time.Time
}

// estimate is what the search knows about a point, on the anchor's scale:
// rows/s and p99 chained through paired ratios to the first baseline.
type estimate struct {
	point  Point
	rate   []float64
	p99    []float64
	qps    []float64 // server load: each measurement's max QPS within the SLO…
	qpsHi  []float64 // …and the lowest load its search saw fail above it
	last   *Measurement
	failed bool
}

func (e *estimate) Rate() float64 { return geomean(e.rate) }
func (e *estimate) P99() float64  { return geomean(e.p99) }

// MaxQPS is the point's highest sustainable QPS within the SLO (server
// load): the median of its searches, the upper middle of an even count.
// Not chained through the baseline as rows/s are, and not their mean: a
// search's noise is one-sided, downward — one descheduling spike at a low
// load fails that load's SLO and sends the bisection far down (seen on a
// shared machine: 0.9k, 72k, 80k and 80k req/s for the same point) — and
// the median ignores a lone collapse.
func (e *estimate) MaxQPS() float64 { lo, _ := e.bracket(); return lo }

// bracket is the median search's bracket: its max QPS and the lowest load
// it saw fail above it (0: none failed above).
func (e *estimate) bracket() (lo, hi float64) {
	if len(e.qps) == 0 {
		return 0, 0
	}
	idx := make([]int, len(e.qps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(e.qps[a], e.qps[b]) })
	m := idx[len(idx)/2]
	return e.qps[m], e.qpsHi[m]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Run searches, resuming from prev (nil: a new search). It returns the
// final state (Done, with Result) or, interrupted, the state so far with
// the context's error.
func (t *Tuner) Run(ctx context.Context, prev *State, identity string) (*State, error) {
	if err := t.Settings.check(); err != nil {
		return nil, err
	}
	s := &search{t: t, visited: map[string]bool{}, scores: map[string]*estimate{}, gains: map[string]float64{}}
	s.state = &State{Schema: StateSchema, Identity: identity, StartedAt: t.now()}
	if prev != nil {
		if prev.Schema != StateSchema || prev.Identity != identity {
			return nil, fmt.Errorf("%w: it was made with another config, space or constraints (start a new tune, or resume with the same config)", ErrMismatch)
		}
		s.state.StartedAt = prev.StartedAt
		s.replay = prev.Steps
	}
	s.started = t.now()
	err := s.run(ctx)
	return s.state, err
}

func (t *Tuner) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tuner) logf(format string, args ...any) {
	if t.Log != nil {
		t.Log(format, args...)
	}
}

// measure runs one step — or replays it from the checkpoint — and folds
// its measurements into the estimates.
func (s *search) measure(ctx context.Context, kind string, pts []Point, reasons []string) (*Step, error) {
	idx := len(s.state.Steps)
	var st Step
	if len(s.replay) > 0 {
		st, s.replay = s.replay[0], s.replay[1:]
		if st.Kind != kind || keys(st.Points) != keys(pts) {
			return nil, fmt.Errorf("%w: step %d measured %s, the search now asks for %s", ErrMismatch, idx, keys(st.Points), keys(pts))
		}
	} else {
		start := s.t.now()
		ms, err := s.t.Measurer.Measure(ctx, idx, pts)
		if err != nil {
			return nil, err
		}
		if len(ms) != len(pts) {
			return nil, fmt.Errorf("step %d: %d measurements for %d points", idx, len(ms), len(pts))
		}
		st = Step{Index: idx, Kind: kind, Points: pts, Reasons: reasons, Measurements: ms, At: start, Seconds: s.t.now().Sub(start).Seconds()}
	}
	s.state.Steps = append(s.state.Steps, st)
	s.fold(&s.state.Steps[len(s.state.Steps)-1])
	if s.t.Checkpoint != nil {
		if err := s.t.Checkpoint(s.state); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	return &s.state.Steps[len(s.state.Steps)-1], nil
}

// fold adds a step's figures: each point's rows/s and p99 as its paired
// ratio to the step's baseline times the baseline's estimate (the first
// baseline anchors the scale with its own medians).
func (s *search) fold(st *Step) {
	base := &st.Measurements[0]
	be := s.est(base.Point)
	anchorRate, anchorP99 := be.Rate(), be.P99()
	if len(be.rate) == 0 && base.Measured() {
		anchorRate, anchorP99 = base.RowsPerSecond, roundsP99(base)
	}
	for i := range st.Measurements {
		m := &st.Measurements[i]
		e := s.est(m.Point)
		if !s.visited[m.Point.Key()] {
			s.visited[m.Point.Key()] = true
			s.order = append(s.order, m.Point)
		}
		e.last = m
		if !m.Measured() {
			e.failed = true
			continue
		}
		if m.MaxQPS > 0 {
			e.qps, e.qpsHi = append(e.qps, m.MaxQPS), append(e.qpsHi, m.MaxQPSHi)
		}
		if i == 0 {
			if len(e.rate) == 0 {
				e.rate, e.p99 = append(e.rate, anchorRate), append(e.p99, anchorP99)
			}
			continue
		}
		r, p := m.RowsPerSecond/base.RowsPerSecond, roundsP99(m)/roundsP99(base)
		if pr := pairedMedian(m, base, rate); pr > 0 {
			r = pr
		}
		if pp := pairedMedian(m, base, p99of); pp > 0 {
			p = pp
		}
		if !base.Measured() || anchorRate == 0 {
			// No baseline to pair with: the point's own figures.
			e.rate, e.p99 = append(e.rate, m.RowsPerSecond), append(e.p99, roundsP99(m))
			continue
		}
		e.rate, e.p99 = append(e.rate, r*anchorRate), append(e.p99, p*anchorP99)
	}
}

func (s *search) est(p Point) *estimate {
	e, ok := s.scores[p.Key()]
	if !ok {
		e = &estimate{point: p}
		s.scores[p.Key()] = e
	}
	return e
}

func rate(r results.Repetition) float64  { return r.RowsPerSecond }
func p99of(r results.Repetition) float64 { return r.P99Seconds }

// pairedRatios are get(a) ÷ get(b) for every round both measured.
func pairedRatios(a, b *Measurement, get func(results.Repetition) float64) []float64 {
	return stats.PairedRatios(a.Rounds, b.Rounds, func(r results.Repetition) int { return r.Round }, get)
}

func pairedMedian(a, b *Measurement, get func(results.Repetition) float64) float64 {
	rs := pairedRatios(a, b, get)
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	if n := len(rs); n%2 == 0 {
		return (rs[n/2-1] + rs[n/2]) / 2
	}
	return rs[len(rs)/2]
}

// value is a point's figure for an objective, higher better.
func (s *search) value(e *estimate, objective string) float64 {
	switch objective {
	case ObjectiveP99:
		if p := e.P99(); p > 0 {
			return -p
		}
		return math.Inf(-1)
	case ObjectivePerCore:
		if s.t.Settings.Server {
			return e.MaxQPS() / coresOf(e)
		}
		return e.Rate() / coresOf(e)
	case ObjectiveMaxQPS:
		return e.MaxQPS()
	}
	return e.Rate()
}

// coresOf is the cores a point kept busy (measured; its thread count when
// the measurement was too short to tell).
func coresOf(e *estimate) float64 {
	if e.last != nil && e.last.CoresBusy > 0 {
		return e.last.CoresBusy
	}
	return float64(e.point.Cores())
}

// violation is how far a point is from meeting the constraints: 0 when it
// meets them, +Inf when it failed, else the largest ratio beyond a limit.
func (s *search) violation(e *estimate) float64 {
	if e.failed || e.last == nil {
		return math.Inf(1)
	}
	return s.t.Settings.Constraints.violation(e.last)
}

// better reports whether a beats b for the objective: a point that meets
// the constraints beats one that does not; between two that do not, the
// nearer one wins.
func (s *search) better(a, b *estimate, objective string) bool {
	va, vb := s.violation(a), s.violation(b)
	if va != vb && (va > 0 || vb > 0) {
		return va < vb
	}
	return s.value(a, objective) > s.value(b, objective)
}

// best is the best visited point for the objective (nil: none measured).
func (s *search) best(objective string) *estimate {
	var b *estimate
	for _, p := range s.order {
		e := s.scores[p.Key()]
		if e.failed {
			continue
		}
		if b == nil || s.better(e, b, objective) {
			b = e
		}
	}
	return b
}

// run is the algorithm: seeds, then a climb from the best point along the
// measured gradient until the last few points gain too little or the
// budget is spent, then a confirmation of the leaders measured together.
func (s *search) run(ctx context.Context) error {
	set := s.t.Settings
	seeds, reasons := s.seeds()
	if _, err := s.measure(ctx, KindSeed, seeds, reasons); err != nil {
		return err
	}
	s.t.logf("seeds: %d points measured together", len(seeds))
	inc := s.best(set.Objective)
	if inc == nil {
		return s.finish("no seed point could be measured (every one failed: see the steps' errors)")
	}
	sinceGain := 0
	var last *Move
	reason := ""
	for {
		switch {
		case set.MaxPoints > 0 && len(s.order) >= set.MaxPoints:
			reason = fmt.Sprintf("point budget: %d points measured", len(s.order))
		case sinceGain >= set.Patience:
			reason = fmt.Sprintf("the last %d points gained less than %.0f%% on the best", set.Patience, 100*set.MinGain)
		case s.overBudget():
			reason = fmt.Sprintf("time budget: %s spent of %s (a confirmation step is kept in reserve)", s.spent().Round(time.Second), set.Budget)
		}
		if reason != "" {
			break
		}
		cands := s.candidates(inc.point, last)
		if len(cands) == 0 {
			reason = "every neighbour of the best point has been measured"
			break
		}
		c := cands[0]
		st, err := s.measure(ctx, KindClimb, []Point{inc.point, c.Point}, []string{"the best so far (paired baseline)", c.Move.String() + " from the best"})
		if err != nil {
			return err
		}
		ce := s.scores[c.Point.Key()]
		gain := 0.0
		if !ce.failed && inc.Rate() > 0 {
			gain = s.gain(ce, inc, set.Objective)
			s.gains[moveKey(c.Move)] += math.Log1p(math.Max(gain, -0.99))
		}
		s.t.logf("step %d: %s → %s", st.Index, c.Point, describeGain(ce, gain))
		if !ce.failed && s.better(ce, inc, set.Objective) {
			if s.violation(inc) > 0 || gain >= set.MinGain {
				sinceGain = 0
			} else {
				sinceGain++
			}
			inc = ce
			m := c.Move
			last = &m
		} else {
			sinceGain++
			last = nil
		}
	}
	s.t.logf("search stopped: %s", reason)
	s.confirm(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return s.finish(reason)
}

// gain is how much a beats b for the objective, as a fraction.
func (s *search) gain(a, b *estimate, objective string) float64 {
	va, vb := s.value(a, objective), s.value(b, objective)
	if vb == 0 || math.IsInf(va, 0) || math.IsInf(vb, 0) {
		return 0
	}
	if objective == ObjectiveP99 {
		return vb/va - 1 // both negative: lower p99 is a gain
	}
	return va/vb - 1
}

func describeGain(e *estimate, gain float64) string {
	if e.failed {
		msg := "failed"
		if e.last != nil && e.last.Error != "" {
			msg += ": " + e.last.Error
		}
		return msg
	}
	return fmt.Sprintf("%+.1f%% against the best", 100*gain)
}

func moveKey(m Move) string { return fmt.Sprintf("%s/%d", m.Axis, m.Dir) }

// spent is the measuring time so far, this run and the checkpoint's.
func (s *search) spent() time.Duration {
	return time.Duration(s.state.Seconds() * float64(time.Second))
}

// overBudget reports whether another climb step and the confirmation
// would not fit in the time budget, estimated from the steps so far.
func (s *search) overBudget() bool {
	var climb, seed float64
	n := 0
	for _, st := range s.state.Steps {
		switch st.Kind {
		case KindSeed:
			seed = st.Seconds
		case KindClimb:
			climb += st.Seconds
			n++
		}
	}
	next := seed / 2
	if n > 0 {
		next = climb / float64(n)
	}
	reserve := seed // the confirmation measures a handful of points, like the seeds
	return s.spent().Seconds()+next+reserve > s.t.Settings.Budget.Seconds()
}

// candidates are the unvisited neighbours of p, best first: the move that
// just gained again, then moves that gained before (the measured
// gradient), then untried moves in the order the facts suggest, then
// moves that lost.
func (s *search) candidates(p Point, last *Move) []Candidate {
	var out []Candidate
	for _, c := range s.t.Space.Neighbours(p) {
		if !s.visited[c.Point.Key()] {
			out = append(out, c)
		}
	}
	prior := s.priorities()
	rank := func(c Candidate) float64 {
		if last != nil && c.Move == *last {
			return 1e9
		}
		if g, ok := s.gains[moveKey(c.Move)]; ok {
			return 1000 * g
		}
		return prior(c.Move)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) > rank(out[j]) })
	return out
}

// priorities orders untried moves: each key's rank tag (a trade the
// mean of its two keys', a strategy its Tuning rank), down moves after up
// moves. With the per-call overhead measured by the seeds small (under a
// tenth of a call), a bigger batch ranks below the thread counts.
func (s *search) priorities() func(Move) float64 {
	overhead := s.overhead()
	sp := s.t.Space
	return func(m Move) float64 {
		base := sp.rank(m)
		if k, ok := sp.key(m.Axis); ok && k.Batch() && overhead >= 0 && overhead < 0.1 {
			base = 2.5
		}
		if m.Dir < 0 {
			base -= 0.1
		}
		return base
	}
}

// overhead is the per-call overhead's share of a call at the smallest
// batch, from two measured points that differ only in batch size; -1 when
// none were measured.
func (s *search) overhead() float64 {
	o, _, _ := s.overheadPair()
	return o
}

// overheadPair finds the smallest-batch point and the same shape at the
// largest measured batch, and the overhead share they imply: a call of b
// rows takes o + b·w, so with t1 = o + w and tb = o + b·w, o = t1 − (tb − t1)/(b − 1).
func (s *search) overheadPair() (float64, *estimate, *estimate) {
	var best float64 = -1
	var ea, eb *estimate
	for _, p := range s.order {
		a := s.scores[p.Key()]
		if a.failed || p.Batch != s.t.Space.Batches()[0] {
			continue
		}
		for _, q := range s.order {
			b := s.scores[q.Key()]
			if b.failed || !s.t.Space.sameBut(p, q, s.t.Space.batchKey()) || q.Batch <= p.Batch || (eb != nil && q.Batch <= eb.point.Batch) {
				continue
			}
			t1 := float64(p.Batch) / a.Rate()
			tb := float64(q.Batch) / b.Rate()
			w := (tb - t1) / float64(q.Batch-p.Batch) // per row
			o := t1 - float64(p.Batch)*w
			share := math.Min(math.Max(o/t1, 0), 1)
			best, ea, eb = share, a, b
		}
	}
	return best, ea, eb
}

// seeds are the informed starting points, measured together, each a
// shape (workers × intra-op threads, own sessions or one shared) found in
// the space — the first point of that shape, its other keys at their
// first values:
//   - latency (ORT's and OpenVINO's rule): one session with all physical
//     cores in its intra-op pool, spinning as ORT's default;
//   - throughput (OpenVINO's streams): one single-threaded session per
//     core, and streams of 2 threads where there are 4 or more cores;
//   - a strategy with keys beyond the shape (the batcher's batch bound and
//     wait): at the latency shape, those keys at their middle values;
//   - the per-call overhead probe: one single-threaded session at the
//     smallest batch, beside the same at the seeds' batch.
//
// The seeds' batch comes from the model's FLOPs per row: a call costs
// roughly 10 µs besides its arithmetic (~10 GFLOP/s a core), so the batch
// is the smallest that makes that overhead under 5% — and at least 64,
// where GEMMs reuse their weights — or the largest batch of the space.
func (s *search) seeds() ([]Point, []string) {
	sp := s.t.Space
	f := s.t.Facts
	batches := sp.Batches()
	batch := seedBatch(batches, f.FlopsPerRow)
	phys := max(f.PhysicalCores, 1)
	logical := max(f.LogicalCores, phys)
	var pts []Point
	var why []string
	add := func(p *Point, reason string) bool {
		if p == nil || containsPoint(pts, *p) {
			return false
		}
		pts = append(pts, *p)
		why = append(why, reason)
		return true
	}
	largestAtMost := func(vals []int, n int) int {
		v := 1
		if len(vals) > 0 {
			v = vals[0]
		}
		for _, x := range vals {
			if x <= n && x <= sp.MaxThreads {
				v = x
			}
		}
		return v
	}
	t := largestAtMost(sp.coreValues("physical"), min(phys, sp.MaxThreads))
	w := largestAtMost(sp.coreValues("cores"), min(logical, sp.MaxThreads))
	spin := slices.ContainsFunc(sp.Keys, func(k strategy.SearchKey) bool { return k.ORT && k.Type == "bool" })
	own := shapeWant{workers: 1, threads: t, batch: batch, spinning: spin}
	found := add(s.shaped(own), fmt.Sprintf("latency rule (ORT, OpenVINO LATENCY): one session with all %d physical cores, spinning as ORT's default", t))
	found = add(s.shaped(shapeWant{workers: w, threads: 1, batch: batch, own: true}), fmt.Sprintf("throughput rule (OpenVINO THROUGHPUT): %d single-threaded streams, one per core", w)) || found
	if logical >= 4 {
		w2 := largestAtMost(sp.coreValues("cores"), logical/2)
		found = add(s.shaped(shapeWant{workers: w2, threads: 2, batch: batch, own: true}), fmt.Sprintf("throughput rule: %d streams of 2 threads", w2)) || found
	}
	for _, st := range sp.Strategies {
		if !found {
			// No session-per-worker shape in the space: each strategy at the cores.
			add(s.shaped(shapeWant{strategy: st, workers: w, threads: 1, batch: batch, anySessions: true}), fmt.Sprintf("%s at one worker per core", st))
		}
		if p, words := s.middle(st, t, batch); p != nil {
			add(p, fmt.Sprintf("%s at the latency shape (one session with %d threads), %s at their middle values", st, t, words))
		}
	}
	if batches[0] == 0 {
		// Server load: no batch axis, so no overhead probe.
		add(s.shaped(shapeWant{workers: 1, threads: 1}), "one single-threaded session serving each request alone (the baseline)")
	}
	add(s.shaped(shapeWant{workers: 1, threads: 1, batch: batch}), fmt.Sprintf("overhead probe: one single-threaded session at batch %d", batch))
	add(s.shaped(shapeWant{workers: 1, threads: 1, batch: batches[0]}), fmt.Sprintf("overhead probe: the same at batch %d (per-call overhead against arithmetic)", batches[0]))
	if len(pts) == 0 {
		add(&sp.Points()[0], "the first point of the space")
	}
	return pts, why
}

// shapeWant is a seed's shape.
type shapeWant struct {
	strategy         string // "": any
	workers, threads int
	batch            int
	spinning         bool
	own              bool // one session per worker
	anySessions      bool
}

// shaped is the space's first point of the shape, its other keys nearest
// their first values (fewest keys off them).
func (s *search) shaped(want shapeWant) *Point {
	sp := s.t.Space
	var best Point
	bestOff := -1
	for _, p := range sp.Points() {
		cfg := sp.Config(p)
		sessions := strategy.ResourcesOf(cfg).Sessions
		switch {
		case want.strategy != "" && p.Strategy != want.strategy,
			p.Shape.Workers != want.workers || max(p.Shape.Threads, 1) != want.threads || p.Shape.InterOp > 1,
			p.Batch != want.batch || p.Spinning != (want.spinning && want.threads > 1),
			!want.anySessions && want.own && sessions != want.workers,
			!want.anySessions && !want.own && sessions != 1:
			continue
		}
		if off := sp.offFirst(p); bestOff < 0 || off < bestOff {
			best, bestOff = p, off
		}
	}
	if bestOff < 0 {
		return nil
	}
	return &best
}

// middle is strategy st at the latency shape with its keys beyond the
// shape (not thread counts, bools or the batch) at their middle values;
// nil when it has none.
func (s *search) middle(st string, threads, batch int) (*Point, string) {
	sp := s.t.Space
	values := map[string]any{}
	var words []string
	for _, k := range sp.Registry[st].SearchKeys() {
		vals := sp.Axes[k.Name]
		if k.Cores() || k.Batch() || k.Type == "bool" || len(vals) == 0 {
			continue
		}
		values[k.Name] = vals[(len(vals)-1)/2]
		words = append(words, k.Name+" "+results.FormatValue(values[k.Name]))
	}
	if len(values) == 0 {
		return nil, ""
	}
	for _, p := range sp.Points() {
		pv := p.Values()
		if p.Strategy != st || p.Shape.Workers != 1 || max(p.Shape.Threads, 1) != threads || p.Batch != batch {
			continue
		}
		match := true
		for k, v := range values {
			match = match && strategy.CompareValues(pv[k], v) == 0
		}
		if match && sp.offFirst(p) <= len(values)+1 {
			return &p, strings.Join(words, ", ")
		}
	}
	return nil, ""
}

// seedBatch: see seeds.
func seedBatch(batches []int, flopsPerRow int64) int {
	want := 64
	if flopsPerRow > 0 {
		rowSeconds := float64(flopsPerRow) / 10e9
		if need := int(math.Ceil(10e-6 / (0.05 * rowSeconds))); need > want {
			want = need
		}
	}
	for _, b := range batches {
		if b >= want {
			return b
		}
	}
	return batches[len(batches)-1]
}

// confirm measures the leaders together once more: the best point for
// each objective and the next fastest, so each recommendation has an
// interval and its ties are paired comparisons.
func (s *search) confirm(ctx context.Context) {
	var pts []Point
	var why []string
	add := func(e *estimate, reason string) {
		if e == nil || s.violation(e) > 0 || containsPoint(pts, e.point) || len(pts) >= s.t.Settings.Confirm {
			return
		}
		pts = append(pts, e.point)
		why = append(why, reason)
	}
	add(s.best(ObjectiveThroughput), "best throughput")
	add(s.best(ObjectiveP99), "lowest p99")
	add(s.best(ObjectivePerCore), "best throughput per core")
	if s.t.Settings.Server {
		add(s.best(ObjectiveMaxQPS), "highest QPS within the SLO")
	}
	ranked := s.ranked(s.t.Settings.Objective)
	for _, e := range ranked {
		add(e, "runner-up")
	}
	if len(pts) < 2 {
		return
	}
	if _, err := s.measure(ctx, KindConfirm, pts, why); err != nil {
		s.t.logf("confirmation step: %v (the recommendation keeps the search's figures)", err)
	}
}

// ranked is every measured point meeting the constraints, best first.
func (s *search) ranked(objective string) []*estimate {
	var out []*estimate
	for _, p := range s.order {
		if e := s.scores[p.Key()]; !e.failed && s.violation(e) == 0 {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return s.value(out[i], objective) > s.value(out[j], objective) })
	return out
}

func (s *search) finish(reason string) error {
	s.state.Done = true
	s.state.StopReason = reason
	s.state.Result = s.result()
	if s.t.Checkpoint != nil {
		return s.t.Checkpoint(s.state)
	}
	return nil
}

func keys(pts []Point) string {
	out := ""
	for i, p := range pts {
		if i > 0 {
			out += ", "
		}
		out += p.Key()
	}
	return "[" + out + "]"
}

func geomean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		if x <= 0 {
			return 0
		}
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(v)))
}

// roundsP99 is the median of a measurement's per-round p99: the scale
// p99 is compared on (each round's p99 pairs with the baseline's in the
// same round); the merged histogram's p99 (Measurement.P99) is what the
// max_p99 constraint checks.
func roundsP99(m *Measurement) float64 {
	v := roundValues(m, p99of)
	if len(v) == 0 {
		return m.P99
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}
