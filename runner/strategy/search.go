package strategy

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What tune may search is declared here, beside the configs, so that
// runner/tune names no strategy and no key.
//
// A config field tagged `search:"SOURCE"` is a key tune may vary; SOURCE
// says where its candidate values on this machine come from:
//
//	cores      1, 2, 4, … up to the threads tune may use (logical cores ×
//	           oversubscribe, and max_cores), and that count itself
//	physical   the same up to the physical cores (× oversubscribe)
//	bool       false, true
//	batch      the batch sizes 1, 4, 16, 64, 256, 1024 up to the rows
//	           (offline only: under server load a request is the batch)
//	a,b,…      these values; slo/N is the SLO's latency ÷ N
//
// `rank:"N"` orders the moves tune has not tried yet (higher first; 2 when
// not given). Canonical forms come from the optional methods below.

// SearchKey is one key tune may vary.
type SearchKey struct {
	Key
	Source string
	Rank   float64
}

// Cores reports whether the key counts threads (cores or physical).
func (k SearchKey) Cores() bool { return k.Source == "cores" || k.Source == "physical" }

// Batch reports whether the key is the batch size.
func (k SearchKey) Batch() bool { return k.Source == "batch" }

// Tuning is how tune treats a strategy it tries by default.
type Tuning struct {
	// Order places it among the strategies a derived space holds.
	Order int
	// Rank orders a move into it among untried moves (0: 2).
	Rank float64
}

// Tuned is implemented by the configs of the strategies tune tries when
// the tune section names none.
type Tuned interface{ Tuned() Tuning }

// Canonical is implemented by configs that another strategy runs the same
// way in some settings (hybrid with one worker is intra-op): Canon names
// that strategy and the keys to give it ("" when this one is canonical).
type Canonical interface {
	Canon() (string, map[string]any)
}

// General is implemented by configs that are one shape of a wider
// strategy (intra-op is hybrid with one worker): General names the wider
// one and the keys that make it this shape. Tune moves in the wider one.
type General interface {
	General() (string, map[string]any)
}

// SearchKeys are the definition's searchable keys in parameter order.
func (d Definition) SearchKeys() []SearchKey {
	var out []SearchKey
	fieldsOf(reflect.ValueOf(d.NewConfig()).Elem(), func(k Key, _ reflect.Value) {
		if k.Search != "" {
			out = append(out, SearchKey{Key: k, Source: k.Search, Rank: k.Rank})
		}
	})
	return out
}

// Tuning reports whether tune tries the strategy by default, and how.
func (d Definition) Tuning() (Tuning, bool) {
	if t, ok := d.NewConfig().(Tuned); ok {
		return t.Tuned(), true
	}
	return Tuning{}, false
}

// SearchMachine is what candidate values depend on.
type SearchMachine struct {
	// MaxThreads bounds workers × threads; Physical the physical cores
	// (× oversubscribe) an intra-op pool may use.
	MaxThreads, Physical int
	// Rows bounds the batch sizes (0: no bound); Server: the server
	// scenario (no batch axis); SLO its latency objective.
	Rows   int
	Server bool
	SLO    time.Duration
}

// defaultBatches are the batch sizes a derived space tries.
var defaultBatches = []int{1, 4, 16, 64, 256, 1024}

// Candidates are the key's values on m, in ascending order (nil: the key
// is not searched on m, as the batch under server load).
func (k SearchKey) Candidates(m SearchMachine) ([]any, error) {
	ints := func(v []int) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	}
	switch k.Source {
	case "cores":
		return ints(powersUpTo(m.MaxThreads)), nil
	case "physical":
		return ints(powersUpTo(min(m.Physical, m.MaxThreads))), nil
	case "bool":
		return []any{false, true}, nil
	case "batch":
		if m.Server {
			return nil, nil
		}
		var out []int
		for _, b := range defaultBatches {
			if m.Rows == 0 || b <= m.Rows {
				out = append(out, b)
			}
		}
		return ints(out), nil
	}
	var out []any
	for _, s := range strings.Split(k.Source, ",") {
		s = strings.TrimSpace(s)
		if n, ok := strings.CutPrefix(s, "slo/"); ok {
			d, err := strconv.Atoi(n)
			if err != nil || d <= 0 || m.SLO <= 0 {
				continue // no SLO: the key takes its values from the tune section
			}
			s = (m.SLO / time.Duration(d)).Round(time.Microsecond).String()
		}
		v, err := k.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("search tag of %s: %w", k.Name, err)
		}
		out = append(out, v)
	}
	SortValues(out)
	return out, nil
}

// Parse reads one value of the key (from a tag or a tune section) in the
// parameter list's form: int64, float64, bool, or a string (a duration as
// time.Duration.String writes it).
func (k SearchKey) Parse(v any) (any, error) {
	s := strings.TrimSpace(fmt.Sprint(v))
	switch {
	case k.Duration:
		if d, ok := v.(time.Duration); ok {
			return d.String(), nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%v: want a duration with a unit (1ms)", v)
		}
		return d.String(), nil
	case k.Type == "int":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) {
			return nil, fmt.Errorf("%v: want a whole number", v)
		}
		return int64(f), nil
	case k.Type == "float":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%v: want a number", v)
		}
		return f, nil
	case k.Type == "bool":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%v: want true or false", v)
		}
		return b, nil
	}
	return s, nil
}

// SortValues sorts parameter values ascending (false before true,
// durations by length).
func SortValues(v []any) {
	slices.SortStableFunc(v, CompareValues)
}

// CompareValues orders two values of one key.
func CompareValues(a, b any) int {
	switch x := a.(type) {
	case int64:
		y, _ := b.(int64)
		return cmpOrdered(x, y)
	case float64:
		y, _ := b.(float64)
		return cmpOrdered(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		y, _ := b.(string)
		dx, ex := time.ParseDuration(x)
		dy, ey := time.ParseDuration(y)
		if ex == nil && ey == nil {
			return cmpOrdered(dx, dy)
		}
		return strings.Compare(x, y)
	}
	return 0
}

func cmpOrdered[T int64 | float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// powersUpTo is 1, 2, 4, … up to n, and n itself.
func powersUpTo(n int) []int {
	var out []int
	for v := 1; v <= n; v *= 2 {
		out = append(out, v)
	}
	if len(out) > 0 && out[len(out)-1] != n && n > 0 {
		out = append(out, n)
	}
	return out
}

// SearchOptions say how a point's config is made.
type SearchOptions struct {
	// NoORT: the workload runs no ORT session (ORT keys are left out).
	NoORT bool
}

// Make is the config of strategy name with values (keys it does not take
// are dropped, the others keep their defaults) in canonical form: the
// strategy the config's Canon names, with spinning off where no pool
// thread could spin. It returns the canonical strategy's name.
func (r Registry) Make(name string, values map[string]any, o SearchOptions) (string, Config, error) {
	for range 4 { // a Canon chain is short: hybrid → intra-op
		def, err := r.Lookup(name)
		if err != nil {
			return "", nil, err
		}
		cfg := def.NewConfig()
		cfg.Common().Provider = DefaultProvider
		cfg.Common().Facts.NoORT = o.NoORT
		if err := setValues(cfg, values, o.NoORT); err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		if rs, ok := cfg.(resolver); ok {
			rs.Resolve()
		}
		c, ok := cfg.(Canonical)
		if !ok {
			return name, canonSpinning(cfg), nil
		}
		next, keys := c.Canon()
		if next == "" || next == name {
			return name, canonSpinning(cfg), nil
		}
		values = overlay(ValuesOf(cfg), keys)
		name = next
	}
	return "", nil, fmt.Errorf("%s: its canonical form does not settle", name)
}

// GeneralOf is the wider strategy cfg (of strategy name) is one shape of,
// and its keys there; name and cfg's own keys when there is none.
func GeneralOf(name string, cfg Config) (string, map[string]any) {
	if g, ok := cfg.(General); ok {
		wide, keys := g.General()
		return wide, overlay(ValuesOf(cfg), keys)
	}
	return name, ValuesOf(cfg)
}

// canonSpinning: with one intra-op thread and no inter-op pool ORT has
// no pool thread that could spin, so spinning on and off are one setting.
func canonSpinning(cfg Config) Config {
	if s := cfg.Shape(); s.Threads <= 1 && s.InterOp <= 1 {
		cfg.Common().Spinning = false
	}
	return cfg
}

// ValuesOf is cfg's parameter list as a map.
func ValuesOf(cfg Config) map[string]any {
	out := map[string]any{}
	for _, p := range Params(cfg) {
		out[p.Key] = p.Value
	}
	return out
}

func overlay(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// setValues sets cfg's keys from values (parameter-list forms).
func setValues(cfg Config, values map[string]any, noORT bool) error {
	var errs []string
	fieldsOf(reflect.ValueOf(cfg).Elem(), func(k Key, f reflect.Value) {
		v, ok := values[k.Name]
		if !ok || (noORT && k.ORT) {
			return
		}
		if err := setValue(f, v); err != nil {
			errs = append(errs, k.Name+": "+err.Error())
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func setValue(f reflect.Value, v any) error {
	if f.Type() == durationType {
		switch d := v.(type) {
		case string:
			x, err := time.ParseDuration(d)
			if err != nil {
				return err
			}
			f.SetInt(int64(x))
		case time.Duration:
			f.SetInt(int64(d))
		default:
			return fmt.Errorf("%v: want a duration", v)
		}
		return nil
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		switch n := v.(type) {
		case int64:
			f.SetInt(n)
		case int:
			f.SetInt(int64(n))
		case float64:
			f.SetInt(int64(n))
		default:
			return fmt.Errorf("%v: want a whole number", v)
		}
	case reflect.Float64, reflect.Float32:
		switch n := v.(type) {
		case float64:
			f.SetFloat(n)
		case int64:
			f.SetFloat(float64(n))
		default:
			return fmt.Errorf("%v: want a number", v)
		}
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v: want true or false", v)
		}
		f.SetBool(b)
	case reflect.String:
		f.SetString(fmt.Sprint(v))
	}
	return nil
}

// Pinned reports whether cfg pins its workers to CPUs (affinity: true).
func Pinned(cfg Config) bool {
	p, ok := cfg.(interface{ pinned() bool })
	return ok && p.pinned()
}
