package tune

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
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
	Workers       []int    `mapstructure:"workers"`
	Threads       []int    `mapstructure:"threads"`
	BatchSizes    []int    `mapstructure:"batch_sizes"`
	Spinning      []bool   `mapstructure:"spinning"`
	Affinity      []bool   `mapstructure:"affinity"`
	// MaxBatch and MaxDelay are the batcher's settings (server load only):
	// batches of at most MaxBatch requests, formed within MaxDelay.
	MaxBatch []int           `mapstructure:"max_batch"`
	MaxDelay []time.Duration `mapstructure:"max_delay"`
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
	case s.MinGain < 0 || s.MinGain >= 1:
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
	if !s.Server && (s.MaxBatch != nil || s.MaxDelay != nil) {
		return fmt.Errorf("tune.max_batch and tune.max_delay are the batcher's, which serves requests only: set load.scenario: server")
	}
	for _, b := range s.MaxBatch {
		if b < 1 || b > maxBatchRequests {
			return fmt.Errorf("tune.max_batch: every value must be ≥ 1 and at most %d requests, got %d", maxBatchRequests, b)
		}
	}
	for _, d := range s.MaxDelay {
		if d < 0 || d > time.Minute {
			return fmt.Errorf("tune.max_delay: every value must be ≥ 0 and at most 1m, got %s", d)
		}
	}
	return s.Constraints.check()
}

func (c Constraints) check() error {
	switch {
	case c.MaxP99 < 0:
		return fmt.Errorf("tune.max_p99 must be > 0 (a duration such as 5ms), got %s", c.MaxP99)
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
		parts = append(parts, "peak RSS ≤ "+FormatBytes(uint64(c.MaxRSS)))
	}
	if c.MaxCores > 0 {
		parts = append(parts, fmt.Sprintf("workers × threads ≤ %g cores", c.MaxCores))
	}
	if c.MinThroughput > 0 {
		parts = append(parts, "throughput ≥ "+FormatRate(c.MinThroughput)+" rows/s")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// maxBatchRequests bounds max_batch (the batcher's own bound).
const maxBatchRequests = 4096

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

// FormatBytes writes a byte count in MiB or GiB.
func FormatBytes(b uint64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.0fMiB", float64(b)/(1<<20))
}

// FormatRate writes rows/s as 4.63M, 320.3k.
func FormatRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// FormatSeconds writes a latency: 42.3µs, 1.21ms, 2.00s.
func FormatSeconds(s float64) string {
	switch {
	case s <= 0:
		return "n/a"
	case s < 1e-3:
		return fmt.Sprintf("%.1fµs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2fms", s*1e3)
	}
	return fmt.Sprintf("%.2fs", s)
}

// Machine is what the derived space depends on.
type Machine struct {
	LogicalCores, PhysicalCores int
	// Rows bounds the batch sizes (a batch beyond the data is one call).
	Rows int
	// Keys tells which keys each strategy takes; Known which strategies exist.
	Keys  func(string) Keys
	Known func(string) bool
	// NeedsORT: the workload runs sessions (spinning and threads apply).
	NeedsORT bool
	// Serves tells which strategies have a serving side (server load),
	// ServerOnly which have no other (the batcher).
	Serves, ServerOnly func(string) bool
}

// DefaultStrategies are the in-process strategies a derived space holds:
// one session per worker (intra-op, worker-pool, hybrid by shape) and
// workers sharing one session (goroutines).
var DefaultStrategies = []string{"intra-op", "worker-pool", "hybrid", "goroutines"}

// DefaultBatches are the batch sizes a derived space tries.
var DefaultBatches = []int{1, 4, 16, 64, 256, 1024}

// DefaultServerStrategies are the strategies a derived server space holds:
// the in-process ones and the dynamic batcher.
var DefaultServerStrategies = []string{"intra-op", "worker-pool", "hybrid", "goroutines", "batcher"}

// DefaultMaxBatches are the batcher's batch bounds a derived server space
// tries; its waits are a twentieth and a fifth of the SLO's latency.
var DefaultMaxBatches = []int{4, 16, 64}

// Derive builds the space: each axis the tune section gives, the others
// from the machine (workers and threads: powers of two up to the cores;
// batch 1…1024 up to the rows; spinning and affinity both ways), bounded
// by oversubscribe × logical cores and max_cores.
func (s Settings) Derive(m Machine) (*Space, error) {
	sp := Space{
		Strategies: s.StrategyNames, Workers: s.Workers, Threads: s.Threads,
		Batches: s.BatchSizes, Spinning: s.Spinning, Affinity: s.Affinity,
	}
	logical := max(m.LogicalCores, 1)
	phys := max(m.PhysicalCores, 1)
	sp.MaxThreads = logical * max(s.Oversubscribe, 1)
	if s.MaxCores > 0 {
		sp.MaxThreads = min(sp.MaxThreads, int(math.Floor(s.MaxCores)))
	}
	if s.StrategyNames == nil {
		sp.Strategies = DefaultStrategies
		if s.Server {
			sp.Strategies = DefaultServerStrategies
		}
	}
	for _, name := range sp.Strategies {
		if m.Known != nil && !m.Known(name) {
			return nil, fmt.Errorf("tune.strategies: unknown strategy %q", name)
		}
		if !s.Server && m.ServerOnly != nil && m.ServerOnly(name) {
			return nil, fmt.Errorf("tune.strategies: %s serves requests only: set load.scenario: server (with load.slo) for a server tune", name)
		}
		if s.Server && m.Serves != nil && !m.Serves(name) {
			return nil, fmt.Errorf("tune.strategies: %s has no serving side (server load runs the strategies that serve requests)", name)
		}
	}
	if s.Server {
		// A request carries load.request_rows rows: no batch axis (0).
		sp.Batches = []int{0}
		sp.MaxBatches, sp.MaxDelays = s.MaxBatch, s.MaxDelay
		if sp.MaxBatches == nil {
			sp.MaxBatches = DefaultMaxBatches
		}
		if sp.MaxDelays == nil && s.SLOLatency > 0 {
			sp.MaxDelays = []time.Duration{(s.SLOLatency / 20).Round(time.Microsecond), (s.SLOLatency / 5).Round(time.Microsecond)}
		}
	}
	if s.Workers == nil {
		sp.Workers = powersUpTo(sp.MaxThreads)
	}
	if s.Threads == nil {
		sp.Threads = powersUpTo(min(phys*max(s.Oversubscribe, 1), sp.MaxThreads))
	}
	if s.BatchSizes == nil && !s.Server {
		for _, b := range DefaultBatches {
			if m.Rows == 0 || b <= m.Rows {
				sp.Batches = append(sp.Batches, b)
			}
		}
	}
	if s.Spinning == nil {
		sp.Spinning = []bool{false, true}
	}
	if s.Affinity == nil {
		sp.Affinity = []bool{false, true}
	}
	for _, ax := range []struct {
		name string
		v    []int
	}{{"workers", sp.Workers}, {"threads", sp.Threads}, {"batch_sizes", sp.Batches}, {"max_batch", sp.MaxBatches}} {
		if ax.name == "batch_sizes" && s.Server {
			continue
		}
		for _, x := range ax.v {
			if x < 1 {
				return nil, fmt.Errorf("tune.%s: every value must be ≥ 1, got %d", ax.name, x)
			}
		}
	}
	keys := m.Keys
	if !m.NeedsORT {
		inner := keys
		keys = func(name string) Keys { k := inner(name); k.Threads, k.Spinning = false, false; return k }
	}
	return NewSpace(sp, keys)
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
