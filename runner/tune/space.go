package tune

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Point is one configuration of the space: a strategy with its workers,
// intra-op threads, batch size, spinning and affinity, and under server
// load the batcher's max batch and max delay. Points are kept in
// canonical form (Canon), so two spellings of the same settings are one
// point.
type Point struct {
	Strategy string `json:"strategy"`
	Workers  int    `json:"workers"`
	Threads  int    `json:"threads"`
	// Batch is the rows per call offline; 0 under server load, where each
	// request carries load.request_rows rows.
	Batch    int  `json:"batch_size"`
	Spinning bool `json:"spinning"`
	Affinity bool `json:"affinity"`
	// MaxBatch and MaxDelay are the batcher's (0 for every other strategy).
	MaxBatch int           `json:"max_batch,omitempty"`
	MaxDelay time.Duration `json:"max_delay,omitempty"`
}

// sessionStrategies are the strategies that give every worker its own
// session: with W workers × T threads they are one family, named by shape.
var sessionStrategies = []string{"sequential", "intra-op", "worker-pool", "hybrid"}

// Keys says which keys a strategy takes (its config's words); the space
// fixes the others at 1 / false.
type Keys struct{ Workers, Threads, Spinning, Affinity, MaxBatch, MaxDelay bool }

// Canon is p in canonical form: one session per worker is named by its
// shape (1 worker: intra-op; 1 thread: worker-pool; else hybrid), one
// goroutine on a shared session is intra-op, keys the strategy does not
// take are fixed, and spinning is off with one intra-op thread (ORT then
// has no pool threads that could spin).
func Canon(p Point, keys func(string) Keys) Point {
	p.Workers, p.Threads = max(p.Workers, 1), max(p.Threads, 1)
	switch {
	case slices.Contains(sessionStrategies, p.Strategy):
		switch {
		case p.Workers == 1:
			p.Strategy = "intra-op"
		case p.Threads == 1:
			p.Strategy = "worker-pool"
		default:
			p.Strategy = "hybrid"
		}
	case p.Strategy == "goroutines" && p.Workers == 1:
		p.Strategy = "intra-op"
	}
	k := keys(p.Strategy)
	if !k.Workers {
		p.Workers = 1
	}
	if !k.Threads {
		p.Threads = 1
	}
	if !k.Spinning || p.Threads == 1 {
		p.Spinning = false
	}
	if !k.Affinity {
		p.Affinity = false
	}
	if !k.MaxBatch {
		p.MaxBatch = 0
	}
	if !k.MaxDelay || p.MaxBatch == 1 {
		p.MaxDelay = 0 // batches of one request never wait
	}
	return p
}

// Key is the point's identity: "worker-pool/workers=2/threads=1/batch_size=64/spinning=false/affinity=false"
// (a batcher's adds "/max_batch=16/max_delay=1ms").
func (p Point) Key() string {
	k := fmt.Sprintf("%s/workers=%d/threads=%d/batch_size=%d/spinning=%t/affinity=%t",
		p.Strategy, p.Workers, p.Threads, p.Batch, p.Spinning, p.Affinity)
	if p.MaxBatch > 0 {
		k += fmt.Sprintf("/max_batch=%d/max_delay=%s", p.MaxBatch, p.MaxDelay)
	}
	return k
}

// Cores is how many threads the point keeps busy at most (workers × threads).
func (p Point) Cores() int { return max(p.Workers, 1) * max(p.Threads, 1) }

// String is the point in words: "worker-pool 2×1, batch 64"; under
// server load "intra-op 1×2" or "batcher 1×2, ≤ 16 requests within 1ms".
func (p Point) String() string {
	s := fmt.Sprintf("%s %d×%d", p.Strategy, p.Workers, p.Threads)
	if p.Batch > 0 {
		s += fmt.Sprintf(", batch %d", p.Batch)
	}
	if p.MaxBatch > 0 {
		s += fmt.Sprintf(", ≤ %d requests within %s", p.MaxBatch, p.MaxDelay)
	}
	if p.Spinning {
		s += ", spinning"
	}
	if p.Affinity {
		s += ", pinned"
	}
	return s
}

// Space is every point a tune may visit: the axes' cartesian product in
// canonical form, bounded by the machine and the constraints.
type Space struct {
	Strategies []string
	Workers    []int
	Threads    []int
	Batches    []int
	Spinning   []bool
	Affinity   []bool
	// MaxBatches and MaxDelays are the batcher's axes (server load; nil
	// offline).
	MaxBatches []int
	MaxDelays  []time.Duration
	// MaxThreads bounds workers × threads (logical cores × oversubscribe,
	// and max_cores).
	MaxThreads int
	keys       func(string) Keys
	points     []Point
	index      map[string]int
}

// NewSpace enumerates the space; keys tells which keys each strategy takes.
// It is an error for the space to be empty.
func NewSpace(s Space, keys func(string) Keys) (*Space, error) {
	s.keys = keys
	for _, ax := range []struct {
		name string
		n    int
	}{{"strategies", len(s.Strategies)}, {"workers", len(s.Workers)}, {"threads", len(s.Threads)}, {"batch_sizes", len(s.Batches)}, {"spinning", len(s.Spinning)}, {"affinity", len(s.Affinity)}} {
		if ax.n == 0 {
			return nil, fmt.Errorf("the space is empty: tune.%s has no values", ax.name)
		}
	}
	s.Workers, s.Threads, s.Batches = sortedInts(s.Workers), sortedInts(s.Threads), sortedInts(s.Batches)
	s.MaxBatches = sortedInts(s.MaxBatches)
	s.MaxDelays = slices.Compact(slices.Sorted(slices.Values(s.MaxDelays)))
	maxBatches, maxDelays := s.MaxBatches, s.MaxDelays
	if len(maxBatches) == 0 {
		maxBatches = []int{0}
	}
	if len(maxDelays) == 0 {
		maxDelays = []time.Duration{0}
	}
	s.index = map[string]int{}
	smallest := 0
	for _, st := range s.Strategies {
		for _, w := range s.Workers {
			for _, t := range s.Threads {
				for _, b := range s.Batches {
					for _, sp := range s.Spinning {
						for _, af := range s.Affinity {
							for _, mb := range maxBatches {
								for _, md := range maxDelays {
									p := Canon(Point{Strategy: st, Workers: w, Threads: t, Batch: b, Spinning: sp, Affinity: af, MaxBatch: mb, MaxDelay: md}, keys)
									if smallest == 0 || p.Cores() < smallest {
										smallest = p.Cores()
									}
									s.add(p)
								}
							}
						}
					}
				}
			}
		}
	}
	if len(s.points) == 0 {
		return nil, fmt.Errorf("the space is empty: every point needs more than %d threads (the smallest needs %d; raise tune.oversubscribe or max_cores)", s.MaxThreads, smallest)
	}
	return &s, nil
}

// add keeps p when it is inside the space and new.
func (s *Space) add(p Point) {
	if !s.Contains(p) {
		return
	}
	if _, dup := s.index[p.Key()]; dup {
		return
	}
	s.index[p.Key()] = len(s.points)
	s.points = append(s.points, p)
}

// Contains reports whether the canonical point p is inside the space: its
// strategy allowed, every value on its axis, within the thread bound.
func (s *Space) Contains(p Point) bool {
	if p.Cores() > s.MaxThreads {
		return false
	}
	if !slices.Contains(s.Strategies, p.Strategy) && !(slices.Contains(sessionStrategies, p.Strategy) && s.sessionsAllowed()) {
		return false
	}
	k := s.keys(p.Strategy)
	return (!k.Workers || slices.Contains(s.Workers, p.Workers)) &&
		(!k.Threads || slices.Contains(s.Threads, p.Threads)) &&
		slices.Contains(s.Batches, p.Batch) &&
		(!k.Spinning || p.Threads == 1 || slices.Contains(s.Spinning, p.Spinning)) &&
		(!k.Affinity || slices.Contains(s.Affinity, p.Affinity)) &&
		(!k.MaxBatch || slices.Contains(s.MaxBatches, p.MaxBatch)) &&
		(!k.MaxDelay || p.MaxBatch == 1 || slices.Contains(s.MaxDelays, p.MaxDelay))
}

// sessionsAllowed: any session-per-worker strategy given means the family,
// named by shape, is in the space (intra-op 2 threads and hybrid 2×2 are
// the same kind of configuration).
func (s *Space) sessionsAllowed() bool {
	for _, st := range s.Strategies {
		if slices.Contains(sessionStrategies, st) {
			return true
		}
	}
	return false
}

// Points is every point of the space, in enumeration order.
func (s *Space) Points() []Point { return s.points }

// Size is how many points the space has: what a brute-force run measures.
func (s *Space) Size() int { return len(s.points) }

// Has reports whether p (canonical) is a point of the space.
func (s *Space) Has(p Point) bool { _, ok := s.index[p.Key()]; return ok }

// Canon puts p in canonical form for this space's strategies.
func (s *Space) Canon(p Point) Point { return Canon(p, s.keys) }

// Move is one step from a point to a neighbour, named for the "why" of a
// search trace: "batch_size ↑", "threads ↓", "spinning", "workers×2 threads÷2".
type Move struct {
	Axis string `json:"axis"`
	Dir  int    `json:"dir"`
}

func (m Move) String() string {
	switch m.Dir {
	case 1:
		return m.Axis + " ↑"
	case -1:
		return m.Axis + " ↓"
	}
	return m.Axis
}

// Neighbours are the points one step from p, each with its move: the next
// value up and down on workers, threads and batch size; the other value of
// spinning and affinity; trading workers for threads at the same cores; and
// the same shape under each other strategy. Only points of the space.
func (s *Space) Neighbours(p Point) []Candidate {
	var out []Candidate
	seen := map[string]bool{p.Key(): true}
	try := func(q Point, m Move) {
		q = s.Canon(q)
		if seen[q.Key()] || !s.Has(q) {
			return
		}
		seen[q.Key()] = true
		out = append(out, Candidate{Point: q, Move: m})
	}
	step := func(vals []int, v, dir int) (int, bool) {
		i := sort.SearchInts(vals, v)
		if i < len(vals) && vals[i] == v {
			i += dir
		} else if dir < 0 {
			i--
		}
		if i < 0 || i >= len(vals) {
			return 0, false
		}
		return vals[i], true
	}
	for _, dir := range []int{1, -1} {
		if b, ok := step(s.Batches, p.Batch, dir); ok {
			q := p
			q.Batch = b
			try(q, Move{"batch_size", dir})
		}
		if w, ok := step(s.Workers, p.Workers, dir); ok {
			q := p
			q.Workers = w
			if p.Strategy == "intra-op" && w > 1 {
				q.Strategy = "hybrid" // more sessions of the same kind
			}
			try(q, Move{"workers", dir})
		}
		if t, ok := step(s.Threads, p.Threads, dir); ok {
			q := p
			q.Threads = t
			if p.Strategy == "worker-pool" && t > 1 {
				q.Strategy = "hybrid"
			}
			try(q, Move{"threads", dir})
		}
	}
	for _, dir := range []int{1, -1} {
		if b, ok := step(s.MaxBatches, p.MaxBatch, dir); ok && p.MaxBatch > 0 {
			q := p
			q.MaxBatch = b
			if p.MaxBatch == 1 && len(s.MaxDelays) > 0 {
				q.MaxDelay = s.MaxDelays[0] // a batch beyond one request waits
			}
			try(q, Move{"max_batch", dir})
		}
		if i := slices.Index(s.MaxDelays, p.MaxDelay) + dir; p.MaxBatch > 1 && slices.Contains(s.MaxDelays, p.MaxDelay) && i >= 0 && i < len(s.MaxDelays) {
			q := p
			q.MaxDelay = s.MaxDelays[i]
			try(q, Move{"max_delay", dir})
		}
	}
	q := p
	q.Spinning = !p.Spinning
	try(q, Move{Axis: "spinning"})
	q = p
	q.Affinity = !p.Affinity
	try(q, Move{Axis: "affinity"})
	// Trade threads for workers at the same cores, and back.
	if w, ok := step(s.Workers, p.Workers, 1); ok {
		if t, ok := step(s.Threads, p.Threads, -1); ok {
			q := p
			q.Workers, q.Threads = w, t
			if slices.Contains(sessionStrategies, p.Strategy) {
				q.Strategy = "hybrid"
			}
			try(q, Move{"workers for threads", 1})
		}
	}
	if w, ok := step(s.Workers, p.Workers, -1); ok {
		if t, ok := step(s.Threads, p.Threads, 1); ok {
			q := p
			q.Workers, q.Threads = w, t
			if slices.Contains(sessionStrategies, p.Strategy) {
				q.Strategy = "hybrid"
			}
			try(q, Move{"workers for threads", -1})
		}
	}
	for _, st := range s.Strategies {
		if st == p.Strategy || (slices.Contains(sessionStrategies, st) && slices.Contains(sessionStrategies, p.Strategy)) {
			continue
		}
		q := p
		q.Strategy = st
		if q.MaxBatch == 0 && len(s.MaxBatches) > 0 {
			// Into the batcher: its smallest batch bound and wait.
			q.MaxBatch = s.MaxBatches[0]
			if len(s.MaxDelays) > 0 {
				q.MaxDelay = s.MaxDelays[0]
			}
		}
		try(q, Move{Axis: "strategy " + s.Canon(q).Strategy})
	}
	return out
}

// Candidate is a neighbour and the move that reaches it.
type Candidate struct {
	Point Point `json:"point"`
	Move  Move  `json:"move"`
}

// Describe is the space in one line.
func (s *Space) Describe() string {
	if s.MaxBatches != nil {
		return fmt.Sprintf("%d points: strategies %s × workers %v × threads %v × spinning %v × affinity %v, batcher max_batch %v × max_delay %v, at most %d threads",
			len(s.points), strings.Join(s.Strategies, ","), s.Workers, s.Threads, s.Spinning, s.Affinity, s.MaxBatches, s.MaxDelays, s.MaxThreads)
	}
	return fmt.Sprintf("%d points: strategies %s × workers %v × threads %v × batch %v × spinning %v × affinity %v, at most %d threads",
		len(s.points), strings.Join(s.Strategies, ","), s.Workers, s.Threads, s.Batches, s.Spinning, s.Affinity, s.MaxThreads)
}

func sortedInts(v []int) []int {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}
