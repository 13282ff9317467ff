package tune

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Point is one configuration of the space: a strategy and its typed
// parameters in canonical form (strategy.Registry.Make), so two spellings
// of the same settings are one point — the identity a plan's cell has
// (strategy + parameter list). Shape, Batch and Spinning are what tune
// reads of the point's config, kept beside its keys (the checkpoint holds
// them); Words is the point's settings beyond its shape and batch.
type Point struct {
	Strategy string         `json:"strategy"`
	Params   results.Params `json:"params"`
	Shape    strategy.Shape `json:"shape"`
	// Batch is the rows per call offline; 0 under server load, where each
	// request carries load.request_rows rows.
	Batch    int    `json:"batch_size"`
	Spinning bool   `json:"spinning,omitempty"`
	Words    string `json:"words,omitempty"`
}

// NewPoint is strategy name with values (parameter-list forms; keys it
// does not take are dropped) as a canonical point, with its config.
func NewPoint(reg strategy.Registry, name string, values map[string]any, o strategy.SearchOptions) (Point, strategy.Config, error) {
	name, cfg, err := reg.Make(name, values, o)
	if err != nil {
		return Point{}, nil, err
	}
	p := Point{Strategy: name, Params: strategy.Params(cfg), Shape: cfg.Shape(), Batch: cfg.Common().BatchSize,
		Spinning: cfg.Common().Spinning && !o.NoORT}
	var words []string
	if p.Shape.InterOp > 1 {
		words = append(words, fmt.Sprintf("%d inter-op", p.Shape.InterOp))
	}
	for _, k := range reg[name].SearchKeys() {
		v, ok := p.Params.Get(k.Name)
		switch {
		case !ok || k.Cores() || k.Batch():
		case k.Type == "bool":
			if v == true {
				words = append(words, k.Name)
			}
		default:
			words = append(words, k.Name+"="+results.FormatValue(v))
		}
	}
	if len(words) > 0 {
		p.Words = ", " + strings.Join(words, ", ")
	}
	return p, cfg, nil
}

// Values is the point's parameters as a map.
func (p Point) Values() map[string]any {
	out := make(map[string]any, len(p.Params))
	for _, q := range p.Params {
		out[q.Key] = q.Value
	}
	return out
}

// Key is the point's identity: "worker-pool/workers=2/affinity=false/spinning=false/batch_size=64".
func (p Point) Key() string { return p.Strategy + "/" + p.Params.Path() }

// Same reports whether p and q are one point.
func (p Point) Same(q Point) bool { return p.Key() == q.Key() }

// Cores is how many threads the point keeps busy at most.
func (p Point) Cores() int { return p.Shape.Cores() }

// String is the point in words: "worker-pool 2×1, batch 64"; under
// server load "intra-op 1×2, spinning" or "batcher 1×2, max_batch=16, max_delay=1ms".
func (p Point) String() string {
	s := fmt.Sprintf("%s %d×%d", p.Strategy, max(p.Shape.Workers, 1), max(p.Shape.Threads, 1))
	if p.Batch > 0 {
		s += fmt.Sprintf(", batch %d", p.Batch)
	}
	return s + p.Words
}

func containsPoint(pts []Point, p Point) bool {
	return slices.ContainsFunc(pts, p.Same)
}

// Space is every point a tune may visit: each strategy's searchable keys
// (their search tags, strategy/search.go) over their candidate values, in
// canonical form, bounded by the machine and the constraints.
type Space struct {
	Strategies []string
	// Keys are the space's searchable keys in order; Axes their values.
	Keys []strategy.SearchKey
	Axes map[string][]any
	// MaxThreads bounds workers × threads (logical cores × oversubscribe,
	// and max_cores).
	MaxThreads int
	Registry   strategy.Registry
	Options    strategy.SearchOptions
	points     []Point
	index      map[string]int
	configs    map[string]strategy.Config
	general    map[string]generalForm
}

// generalForm is a point as its wider strategy (intra-op as hybrid).
type generalForm struct {
	name   string
	values map[string]any
}

// NewSpace enumerates the space. It is an error for it to be empty.
func NewSpace(s Space) (*Space, error) {
	if len(s.Strategies) == 0 {
		return nil, fmt.Errorf("the space is empty: tune.strategies has no values")
	}
	s.index, s.configs, s.general = map[string]int{}, map[string]strategy.Config{}, map[string]generalForm{}
	smallest := 0
	for _, st := range s.Strategies {
		var keys []strategy.SearchKey
		for _, k := range s.Registry[st].SearchKeys() {
			if len(s.Axes[k.Name]) > 0 && !(s.Options.NoORT && k.ORT) {
				keys = append(keys, k)
			}
		}
		err := s.product(keys, map[string]any{}, func(values map[string]any) error {
			p, cfg, err := NewPoint(s.Registry, st, values, s.Options)
			if err != nil {
				return err
			}
			if smallest == 0 || p.Cores() < smallest {
				smallest = p.Cores()
			}
			s.add(p, cfg)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(s.points) == 0 {
		return nil, fmt.Errorf("the space is empty: every point needs more than %d threads (the smallest needs %d; raise tune.oversubscribe or max_cores)", s.MaxThreads, smallest)
	}
	return &s, nil
}

// product calls fn with every combination of the keys' values.
func (s *Space) product(keys []strategy.SearchKey, values map[string]any, fn func(map[string]any) error) error {
	if len(keys) == 0 {
		return fn(values)
	}
	for _, v := range s.Axes[keys[0].Name] {
		values[keys[0].Name] = v
		if err := s.product(keys[1:], values, fn); err != nil {
			return err
		}
	}
	delete(values, keys[0].Name)
	return nil
}

// add keeps p when it is valid, within the thread bound and new.
func (s *Space) add(p Point, cfg strategy.Config) {
	if p.Cores() > s.MaxThreads || len(cfg.Validate()) > 0 {
		return
	}
	if _, dup := s.index[p.Key()]; dup {
		return
	}
	s.index[p.Key()] = len(s.points)
	s.points = append(s.points, p)
	s.configs[p.Key()] = cfg
	name, values := strategy.GeneralOf(p.Strategy, cfg)
	s.general[p.Key()] = generalForm{name, values}
}

// Points is every point of the space, in enumeration order.
func (s *Space) Points() []Point { return s.points }

// Size is how many points the space has: what a brute-force run measures.
func (s *Space) Size() int { return len(s.points) }

// Has reports whether p (canonical) is a point of the space.
func (s *Space) Has(p Point) bool { _, ok := s.index[p.Key()]; return ok }

// Config is the config of a point of the space (nil: not in it).
func (s *Space) Config(p Point) strategy.Config { return s.configs[p.Key()] }

// key is the named searchable key of the space.
func (s *Space) key(name string) (strategy.SearchKey, bool) {
	i := slices.IndexFunc(s.Keys, func(k strategy.SearchKey) bool { return k.Name == name })
	if i < 0 {
		return strategy.SearchKey{}, false
	}
	return s.Keys[i], true
}

// batchKey is the key of the batch size ("" when the space has none).
func (s *Space) batchKey() string {
	for _, k := range s.Keys {
		if k.Batch() {
			return k.Name
		}
	}
	return ""
}

// Batches are the space's batch sizes ([0] under server load).
func (s *Space) Batches() []int {
	var out []int
	for _, v := range s.Axes[s.batchKey()] {
		n, _ := v.(int64)
		out = append(out, int(n))
	}
	if len(out) == 0 {
		return []int{0}
	}
	return out
}

// coreValues are the values of the space's keys that count threads of
// the given source (cores: workers; physical: intra-op threads).
func (s *Space) coreValues(source string) []int {
	var out []int
	for _, k := range s.Keys {
		if k.Source != source {
			continue
		}
		for _, v := range s.Axes[k.Name] {
			n, _ := v.(int64)
			out = append(out, int(n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Move is one step from a point to a neighbour, named for the "why" of a
// search trace: "batch_size ↑", "threads ↓", "spinning", "workers for threads ↑".
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

// Candidate is a neighbour and the move that reaches it.
type Candidate struct {
	Point Point `json:"point"`
	Move  Move  `json:"move"`
}

// Neighbours are the points one step from p, each with its move: the next
// value up and down of each searchable key of p's wider strategy (intra-op
// moves as hybrid with one worker), the other value of a bool, trading
// one thread count for another at the same cores, and the same settings
// under each other strategy. Only points of the space.
func (s *Space) Neighbours(p Point) []Candidate {
	g, ok := s.general[p.Key()]
	if !ok {
		return nil
	}
	var out []Candidate
	seen := map[string]bool{p.Key(): true}
	try := func(name string, values map[string]any, m Move) {
		q, _, err := NewPoint(s.Registry, name, s.fill(name, values), s.Options)
		if err != nil || seen[q.Key()] || !s.Has(q) {
			return
		}
		seen[q.Key()] = true
		out = append(out, Candidate{Point: q, Move: m})
	}
	keys := s.Registry[g.name].SearchKeys()
	var cores []string
	for _, k := range keys {
		vals := s.Axes[k.Name]
		if len(vals) == 0 {
			continue
		}
		if k.Cores() {
			cores = append(cores, k.Name)
		}
		if k.Type == "bool" {
			v, _ := g.values[k.Name].(bool)
			try(g.name, with(g.values, k.Name, !v), Move{Axis: k.Name})
			continue
		}
		for _, dir := range []int{1, -1} {
			if v, ok := step(vals, g.values[k.Name], dir); ok {
				try(g.name, with(g.values, k.Name, v), Move{k.Name, dir})
			}
		}
	}
	// Trade one thread count for another at the same cores, and back.
	for i, a := range cores {
		for _, b := range cores[i+1:] {
			for _, dir := range []int{1, -1} {
				va, okA := step(s.Axes[a], g.values[a], dir)
				vb, okB := step(s.Axes[b], g.values[b], -dir)
				if okA && okB {
					try(g.name, with(with(g.values, a, va), b, vb), Move{a + " for " + b, dir})
				}
			}
		}
	}
	for _, st := range s.Strategies {
		if s.generalName(st) == g.name {
			continue
		}
		q, _, err := NewPoint(s.Registry, st, s.fill(st, g.values), s.Options)
		if err == nil {
			try(st, g.values, Move{Axis: "strategy " + q.Strategy})
		}
	}
	return out
}

// generalName is the wider strategy of strategy name.
func (s *Space) generalName(name string) string {
	d, ok := s.Registry[name]
	if !ok {
		return name
	}
	g, _ := strategy.GeneralOf(name, d.NewConfig())
	return g
}

// fill gives each searchable key of strategy name whose value is missing
// or off its axis (a wait canonicalised away) the axis's first value.
func (s *Space) fill(name string, values map[string]any) map[string]any {
	out := with(values, "", nil)
	for _, k := range s.Registry[name].SearchKeys() {
		vals := s.Axes[k.Name]
		if len(vals) == 0 {
			continue
		}
		if v, ok := out[k.Name]; !ok || !slices.ContainsFunc(vals, func(x any) bool { return strategy.CompareValues(x, v) == 0 }) {
			out[k.Name] = vals[0]
		}
	}
	return out
}

// with is a copy of values with key set to v ("" sets nothing).
func with(values map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(values)+1)
	for k, x := range values {
		out[k] = x
	}
	if key != "" {
		out[key] = v
	}
	return out
}

// step is the value next to v on the sorted axis vals in direction dir
// (v off the axis: the nearest one that way).
func step(vals []any, v any, dir int) (any, bool) {
	if v == nil {
		return nil, false
	}
	i := sort.Search(len(vals), func(i int) bool { return strategy.CompareValues(vals[i], v) >= 0 })
	if i < len(vals) && strategy.CompareValues(vals[i], v) == 0 {
		i += dir
	} else if dir < 0 {
		i--
	}
	if i < 0 || i >= len(vals) {
		return nil, false
	}
	return vals[i], true
}

// rank is how early an untried move is tried (higher first): its key's
// rank tag, a trade's the mean of its two keys', a strategy's its Tuning
// rank (2 without one).
func (s *Space) rank(m Move) float64 {
	if k, ok := s.key(m.Axis); ok {
		return k.Rank
	}
	if a, b, ok := strings.Cut(m.Axis, " for "); ok {
		ka, _ := s.key(a)
		kb, _ := s.key(b)
		return (ka.Rank + kb.Rank) / 2
	}
	if name, ok := strings.CutPrefix(m.Axis, "strategy "); ok {
		if t, ok := s.Registry[name].Tuning(); ok && t.Rank > 0 {
			return t.Rank
		}
	}
	return 2
}

// Describe is the space in one line.
func (s *Space) Describe() string {
	var axes []string
	for _, k := range s.Keys {
		if vals := s.Axes[k.Name]; len(vals) > 0 {
			var vs []string
			for _, v := range vals {
				vs = append(vs, results.FormatValue(v))
			}
			axes = append(axes, fmt.Sprintf("%s [%s]", k.Name, strings.Join(vs, " ")))
		}
	}
	return fmt.Sprintf("%d points: strategies %s × %s, at most %d threads",
		len(s.points), strings.Join(s.Strategies, ","), strings.Join(axes, " × "), s.MaxThreads)
}

// offFirst is how many of p's searchable keys, besides thread counts and
// the batch, are off their axis's first value (a plain point: 0).
func (s *Space) offFirst(p Point) int {
	n := 0
	for _, k := range s.Registry[p.Strategy].SearchKeys() {
		vals := s.Axes[k.Name]
		v, ok := p.Params.Get(k.Name)
		if k.Cores() || k.Batch() || len(vals) == 0 || !ok {
			continue
		}
		if strategy.CompareValues(v, vals[0]) != 0 {
			n++
		}
	}
	return n
}

// sameBut reports whether p and q are the same settings of one wider
// strategy but for key (the batch size: the same shape at another batch).
func (s *Space) sameBut(p, q Point, key string) bool {
	gp, okP := s.general[p.Key()]
	gq, okQ := s.general[q.Key()]
	if !okP || !okQ || gp.name != gq.name || len(gp.values) != len(gq.values) {
		return false
	}
	for k, v := range gp.values {
		if k != key && strategy.CompareValues(v, gq.values[k]) != 0 {
			return false
		}
	}
	return true
}
