package tune

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Objectives a recommendation is made for.
const (
	ObjectiveThroughput = "throughput" // highest rows/s
	ObjectiveP99        = "p99"        // lowest p99 batch latency
	ObjectivePerCore    = "per_core"   // highest rows/s per core kept busy
	// ObjectiveMaxQPS (server load only): the highest request rate the
	// point sustains within the SLO, from its SLO search.
	ObjectiveMaxQPS = "max_qps_under_slo"
)

// Objectives lists the offline objectives in the order results are
// printed; ServerObjectives the server scenario's.
var (
	Objectives       = []string{ObjectiveThroughput, ObjectiveP99, ObjectivePerCore}
	ServerObjectives = []string{ObjectiveThroughput, ObjectiveP99, ObjectivePerCore, ObjectiveMaxQPS}
)

// objectives are the ones s recommends for.
func (s Settings) objectives() []string {
	if s.Server {
		return ServerObjectives
	}
	return Objectives
}

// Settings are a tune's: the `tune:` section of the config (every key
// optional), with --budget and --points applied by the command.
type Settings struct {
	// The space; an axis left out is derived from the machine (Derive).
	StrategyNames []string `mapstructure:"strategies"`
	BatchSizes    []int    `mapstructure:"batch_sizes"`
	// Axes are the values given for searchable keys (workers: [1, 2]):
	// every other key of the section, checked against the strategies'
	// search tags by Derive.
	Axes map[string]any `mapstructure:",remain"`
	// Oversubscribe bounds workers × threads at this many per logical core
	// (default 1: a tune never recommends more threads than cores).
	Oversubscribe int `mapstructure:"oversubscribe"`

	Constraints `mapstructure:",squash"`

	// Objective is what the climb follows (throughput, p99, per_core);
	// every objective gets a recommendation.
	Objective string `mapstructure:"objective"`
	// MinGain and Patience stop the climb: when the last Patience points
	// improved the best by less than MinGain (a fraction).
	MinGain  float64 `mapstructure:"min_gain"`
	Patience int     `mapstructure:"patience"`
	// MaxPoints bounds the distinct points measured (0: no bound); Budget
	// the measuring time, the confirmation included.
	MaxPoints int           `mapstructure:"points"`
	Budget    time.Duration `mapstructure:"budget"`
	// Confirm is how many leaders are measured together at the end.
	Confirm int `mapstructure:"confirm"`

	// Server: the config's load is the server scenario (DecodeServer):
	// each point is served open-loop and its SLO search gives its highest
	// sustainable QPS. SLO is that objective in words ("p99 ≤ 20ms"),
	// SLOLatency its latency.
	Server     bool          `mapstructure:"-"`
	SLO        string        `mapstructure:"-"`
	SLOLatency time.Duration `mapstructure:"-"`
}

// Constraints bound what may be recommended.
type Constraints struct {
	MaxP99 time.Duration `mapstructure:"max_p99"`
	// MaxRSS is peak resident memory in bytes ("512MiB" in the config).
	MaxRSS ByteSize `mapstructure:"max_rss"`
	// MaxCores bounds workers × threads (a CPU budget: "leave a core for
	// the app").
	MaxCores float64 `mapstructure:"max_cores"`
	// MinThroughput is rows/s.
	MinThroughput float64 `mapstructure:"min_throughput"`
}

// ByteSize is a number of bytes; the config may write 512MiB, 2GiB, 1e9.
type ByteSize uint64

// DefaultSettings are the settings a config without a tune section gets.
func DefaultSettings() Settings {
	return Settings{Oversubscribe: 1, Objective: ObjectiveThroughput, MinGain: 0.02, Patience: 3, Budget: 10 * time.Minute, Confirm: 4}
}

// check reports the first setting that cannot work, on one line.
func (s Settings) check() error {
	switch {
	case s.Budget <= 0:
		return fmt.Errorf("budget must be > 0 (a time such as 10m), got %s", s.Budget)
	case s.MaxPoints < 0:
		return fmt.Errorf("points must be ≥ 0 (0: no bound), got %d", s.MaxPoints)
	case !(s.MinGain >= 0 && s.MinGain < 1): // NaN too
		return fmt.Errorf("tune.min_gain must be ≥ 0 and < 1 (0.02 = stop when the last points gained < 2%%), got %g", s.MinGain)
	case s.Patience < 1:
		return fmt.Errorf("tune.patience must be ≥ 1, got %d", s.Patience)
	case s.Confirm < 2:
		return fmt.Errorf("tune.confirm must be ≥ 2 (the leaders measured together at the end), got %d", s.Confirm)
	case s.Oversubscribe < 1:
		return fmt.Errorf("tune.oversubscribe must be ≥ 1 (threads per logical core), got %d", s.Oversubscribe)
	}
	switch s.Objective {
	case ObjectiveThroughput, ObjectiveP99, ObjectivePerCore:
	case ObjectiveMaxQPS:
		if !s.Server {
			return fmt.Errorf("tune.objective %s needs server load (load.scenario: server, with load.slo)", s.Objective)
		}
	default:
		return fmt.Errorf("tune.objective %q: want one of %s", s.Objective, strings.Join(s.objectives(), ", "))
	}
	return s.Constraints.check()
}

func (c Constraints) check() error {
	switch {
	case c.MaxP99 < 0:
		return fmt.Errorf("tune.max_p99 must be > 0 (a duration such as 5ms), got %s", c.MaxP99)
	case math.IsNaN(c.MaxCores) || math.IsInf(c.MaxCores, 0):
		return fmt.Errorf("tune.max_cores %g: want 0 (no bound) or a finite number of cores ≥ 1", c.MaxCores)
	case c.MaxCores < 0 || (c.MaxCores > 0 && c.MaxCores < 1):
		return fmt.Errorf("tune.max_cores %g is impossible: every point keeps at least 1 core busy", c.MaxCores)
	case c.MinThroughput < 0 || math.IsNaN(c.MinThroughput) || math.IsInf(c.MinThroughput, 0):
		return fmt.Errorf("tune.min_throughput must be ≥ 0 rows/s, got %g", c.MinThroughput)
	}
	return nil
}

// violation is 0 when m meets every constraint, else the largest ratio by
// which it misses one (1.3: 30% beyond a limit).
func (c Constraints) violation(m *Measurement) float64 {
	v := 0.0
	worse := func(r float64) {
		if r > 1 && r > v {
			v = r
		}
	}
	if c.MaxP99 > 0 {
		worse(m.P99 / c.MaxP99.Seconds())
	}
	if c.MaxRSS > 0 {
		worse(float64(m.PeakRSS) / float64(c.MaxRSS))
	}
	if c.MinThroughput > 0 {
		if m.RowsPerSecond <= 0 {
			return math.Inf(1)
		}
		worse(c.MinThroughput / m.RowsPerSecond)
	}
	return v
}

// violated names the constraints m misses.
func (c Constraints) violated(m *Measurement) []string {
	var out []string
	if c.MaxP99 > 0 && m.P99 > c.MaxP99.Seconds() {
		out = append(out, "max_p99")
	}
	if c.MaxRSS > 0 && m.PeakRSS > uint64(c.MaxRSS) {
		out = append(out, "max_rss")
	}
	if c.MinThroughput > 0 && m.RowsPerSecond < c.MinThroughput {
		out = append(out, "min_throughput")
	}
	return out
}

// Describe is the constraints in one line ("none" without any).
func (c Constraints) Describe() string {
	var parts []string
	if c.MaxP99 > 0 {
		parts = append(parts, "p99 ≤ "+c.MaxP99.String())
	}
	if c.MaxRSS > 0 {
		parts = append(parts, "peak RSS ≤ "+results.Bytes(uint64(c.MaxRSS)))
	}
	if c.MaxCores > 0 {
		parts = append(parts, fmt.Sprintf("workers × threads ≤ %g cores", c.MaxCores))
	}
	if c.MinThroughput > 0 {
		parts = append(parts, "throughput ≥ "+results.Num(c.MinThroughput)+" rows/s")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Decode reads a config's `tune:` section (nil: none) over the defaults,
// strictly: unknown keys and wrong types are errors. keyErr locates a
// problem at its key in the file.
func Decode(raw map[string]any, keyErr func(key, format string, args ...any) error) (Settings, error) {
	return decode(raw, DefaultSettings(), keyErr)
}

// SLO is a server config's latency objective, as DecodeServer needs it.
type SLO struct {
	Percentile float64
	Latency    time.Duration
}

// DecodeServer is Decode for a config whose load is the server scenario:
// the objectives gain max_qps_under_slo (the climb's default), the space
// gains the batcher's max_batch and max_delay and loses batch_sizes (a
// request carries load.request_rows rows), and an SLO is required — it is
// what ranks the points.
func DecodeServer(raw map[string]any, slo SLO, keyErr func(key, format string, args ...any) error) (Settings, error) {
	s := DefaultSettings()
	s.Server, s.Objective = true, ObjectiveMaxQPS
	if slo.Latency <= 0 {
		return s, keyErr("load.slo", "a server tune needs an SLO: each point's highest QPS within it is what the search ranks (load.slo: {percentile: 99, latency: 20ms})")
	}
	s.SLO, s.SLOLatency = fmt.Sprintf("p%g ≤ %s", slo.Percentile, slo.Latency), slo.Latency
	if raw != nil {
		if _, ok := raw["batch_sizes"]; ok {
			return s, keyErr("tune.batch_sizes", "server load sends load.request_rows rows per request: tune the batcher's max_batch instead")
		}
		if _, ok := raw["max_rss"]; ok {
			return s, keyErr("tune.max_rss", "server cells record no peak RSS of their own (one process serves every point of a step): leave it out under server load")
		}
	}
	return decode(raw, s, keyErr)
}

func decode(raw map[string]any, s Settings, keyErr func(key, format string, args ...any) error) (Settings, error) {
	if raw == nil {
		return s, nil
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		ErrorUnused: true, Result: &s, DecodeHook: tuneHook(),
	})
	if err != nil {
		return s, err
	}
	if err := dec.Decode(raw); err != nil {
		// The first problem, on one line: "'max_p99' time: invalid duration".
		msg := ""
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* ")); strings.HasPrefix(line, "'") {
				msg = line
				break
			}
		}
		if msg == "" {
			msg = err.Error()
		}
		key := "tune"
		if m := quotedKey.FindStringSubmatch(msg); m != nil {
			msg = m[2]
			if strings.Contains(msg, "has invalid keys:") {
				msg = "unknown key " + strings.TrimSpace(strings.TrimPrefix(msg, "has invalid keys:")) + " (tune takes " + strings.Join(settingKeys(), ", ") + ")"
			} else if !strings.Contains(m[1], ".Settings") {
				key = "tune." + m[1]
			}
		}
		return s, keyErr(key, "%s", strings.Join(strings.Fields(msg), " "))
	}
	if err := s.check(); err != nil {
		return s, keyErr("tune", "%s", strings.TrimPrefix(err.Error(), "tune."))
	}
	return s, nil
}

var quotedKey = regexp.MustCompile(`^'([^']*)' (.*)$`)

// settingKeys are the tune section's keys.
func settingKeys() []string {
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("mapstructure"), ",")
			if tag[0] == "" && f.Anonymous {
				walk(f.Type)
			} else if tag[0] != "" && tag[0] != "-" {
				out = append(out, tag[0])
			}
		}
	}
	walk(reflect.TypeOf(Settings{}))
	return out
}

// tuneHook: one value where a list is wanted, durations from strings,
// byte sizes with units; nothing else is converted.
func tuneHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(
		func(from, to reflect.Type, data any) (any, error) {
			if to == reflect.TypeOf(time.Duration(0)) {
				s, ok := data.(string)
				if !ok {
					return nil, fmt.Errorf("%v: want a duration with a unit (5ms, 10m)", data)
				}
				return time.ParseDuration(strings.TrimSpace(s))
			}
			if to == reflect.TypeOf(ByteSize(0)) {
				return parseBytes(data)
			}
			if to.Kind() == reflect.Slice && from.Kind() != reflect.Slice {
				return []any{data}, nil
			}
			return data, nil
		},
	)
}

// parseBytes reads 512MiB, 2GiB, 1.5GB, 1e9 or a plain number of bytes.
func parseBytes(v any) (ByteSize, error) {
	switch n := v.(type) {
	case int:
		if n > 0 {
			return ByteSize(n), nil
		}
	case float64:
		if n > 0 && !math.IsInf(n, 0) {
			return ByteSize(n), nil
		}
	case string:
		s := strings.TrimSpace(n)
		units := []struct {
			suffix string
			mult   float64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
		mult := 1.0
		for _, u := range units {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
				break
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && !math.IsInf(f*mult, 0) {
			return ByteSize(f * mult), nil
		}
	}
	return 0, fmt.Errorf("%v: want a size > 0 such as 512MiB or 2GiB", v)
}

// Machine is what the derived space depends on.
type Machine struct {
	LogicalCores, PhysicalCores int
	// Rows bounds the batch sizes (a batch beyond the data is one call).
	Rows int
	// Registry is the strategies: their search tags say which keys the
	// space has and their values; their Tuning which are tried by default.
	Registry strategy.Registry
	// NeedsORT: the workload runs sessions (ORT keys such as threads and
	// spinning apply).
	NeedsORT bool
}

// Derive builds the space: the strategies the tune section names (else
// those whose config is strategy.Tuned, that fit the scenario), and each
// of their searchable keys over the values the section gives or, left out,
// the values its search tag derives from the machine (workers and threads:
// powers of two up to the cores; batch 1…1024 up to the rows; bools both
// ways), bounded by oversubscribe × logical cores and max_cores.
func (s Settings) Derive(m Machine) (*Space, error) {
	sp := Space{Registry: m.Registry, Options: strategy.SearchOptions{NoORT: !m.NeedsORT}, Axes: map[string][]any{}}
	logical, phys := max(m.LogicalCores, 1), max(m.PhysicalCores, 1)
	sp.MaxThreads = logical * max(s.Oversubscribe, 1)
	if s.MaxCores > 0 {
		sp.MaxThreads = min(sp.MaxThreads, int(math.Floor(s.MaxCores)))
	}
	var err error
	if sp.Strategies, err = s.strategies(m.Registry); err != nil {
		return nil, err
	}
	sm := strategy.SearchMachine{MaxThreads: sp.MaxThreads, Physical: phys * max(s.Oversubscribe, 1), Rows: m.Rows, Server: s.Server, SLO: s.SLOLatency}
	for _, name := range sp.Strategies {
		for _, k := range m.Registry[name].SearchKeys() {
			if _, dup := sp.key(k.Name); dup || (sp.Options.NoORT && k.ORT) {
				continue
			}
			sp.Keys = append(sp.Keys, k)
			if sp.Axes[k.Name], err = k.Candidates(sm); err != nil {
				return nil, err
			}
		}
	}
	if err := s.givenAxes(&sp); err != nil {
		return nil, err
	}
	return NewSpace(sp)
}

// strategies are the space's strategies, checked against the registry
// and the scenario.
func (s Settings) strategies(reg strategy.Registry) ([]string, error) {
	names := s.StrategyNames
	if names == nil {
		type tuned struct {
			name  string
			order int
		}
		var ts []tuned
		for _, n := range reg.Names() {
			if t, ok := reg[n].Tuning(); ok && (s.Server && reg.Serves(n) || !s.Server && !reg.ServerOnly(n)) {
				ts = append(ts, tuned{n, t.Order})
			}
		}
		slices.SortStableFunc(ts, func(a, b tuned) int { return a.order - b.order })
		for _, t := range ts {
			names = append(names, t.name)
		}
	}
	for _, name := range names {
		if _, ok := reg[name]; !ok {
			return nil, fmt.Errorf("tune.strategies: unknown strategy %q", name)
		}
		if !s.Server && reg.ServerOnly(name) {
			return nil, fmt.Errorf("tune.strategies: %s serves requests only: set load.scenario: server (with load.slo) for a server tune", name)
		}
		if s.Server && !reg.Serves(name) {
			return nil, fmt.Errorf("tune.strategies: %s has no serving side (server load runs the strategies that serve requests)", name)
		}
	}
	return names, nil
}

// givenAxes puts the tune section's values in place of the derived ones:
// batch_sizes, and every searchable key given. A key no strategy of the
// space searches is an error naming it.
func (s Settings) givenAxes(sp *Space) error {
	if bk := sp.batchKey(); s.BatchSizes != nil && bk != "" {
		var vals []any
		for _, b := range s.BatchSizes {
			if b < 1 {
				return fmt.Errorf("tune.batch_sizes: every value must be ≥ 1, got %d", b)
			}
			vals = append(vals, int64(b))
		}
		sp.Axes[bk] = dedupe(vals)
	}
	names := slices.Sorted(maps.Keys(s.Axes))
	for _, name := range names {
		k, ok := sp.key(name)
		if !ok {
			return s.unknownAxis(sp, name)
		}
		var vals []any
		for _, raw := range asList(s.Axes[name]) {
			v, err := k.Parse(raw)
			if err != nil {
				return fmt.Errorf("tune.%s: %v", name, err)
			}
			if n, ok := v.(int64); ok && n < 1 {
				return fmt.Errorf("tune.%s: every value must be ≥ 1, got %d", name, n)
			}
			if err := checkValue(sp, name, v); err != nil {
				return err
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return fmt.Errorf("the space is empty: tune.%s has no values", name)
		}
		sp.Axes[name] = dedupe(vals)
	}
	return nil
}

// unknownAxis explains a key of the section no strategy of the space searches.
func (s Settings) unknownAxis(sp *Space, name string) error {
	var takers []string
	for _, n := range sp.Registry.Names() {
		for _, k := range sp.Registry[n].SearchKeys() {
			if k.Name == name {
				takers = append(takers, n)
			}
		}
	}
	serverOnly := len(takers) > 0 && !slices.ContainsFunc(takers, func(n string) bool { return !sp.Registry.ServerOnly(n) })
	switch {
	case serverOnly && !s.Server:
		return fmt.Errorf("tune.%s is the %s's, which serves requests only: set load.scenario: server", name, strings.Join(takers, "/"))
	case len(takers) > 0:
		return fmt.Errorf("tune.%s: no strategy of the space searches it (%s do: add one to tune.strategies)", name, strings.Join(takers, ", "))
	}
	var known []string
	for _, k := range sp.Keys {
		known = append(known, k.Name)
	}
	return fmt.Errorf("unknown key %s (tune takes %s, and the space's keys %s)", name, strings.Join(settingKeys(), ", "), strings.Join(known, ", "))
}

// checkValue validates v as key's value in a config of each strategy of
// the space that searches key (max_batch beyond the batcher's bound).
func checkValue(sp *Space, key string, v any) error {
	for _, name := range sp.Strategies {
		if !slices.ContainsFunc(sp.Registry[name].SearchKeys(), func(k strategy.SearchKey) bool { return k.Name == key }) {
			continue
		}
		_, cfg, err := sp.Registry.Make(name, map[string]any{key: v}, sp.Options)
		if err != nil {
			return fmt.Errorf("tune.%s: %v", key, err)
		}
		for _, e := range cfg.Validate() {
			var ke *strategy.KeyError
			if errors.As(e, &ke) && ke.Key == key {
				return fmt.Errorf("tune.%s: every value %s", key, ke.Msg)
			}
		}
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func dedupe(v []any) []any {
	strategy.SortValues(v)
	return slices.CompactFunc(v, func(a, b any) bool { return strategy.CompareValues(a, b) == 0 })
}
