package strategy

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"github.com/ortbench/ortbench/runner/results"
)

// Config is one cell's typed strategy configuration. Each strategy file
// declares its own struct whose fields carry `key:"name"` tags — the words a
// config file uses — and embeds Base. Field order is the order of the cell's
// parameter list, so it decides names, columns and bench.txt names.
//
// Tags besides key: `ort:"true"` marks an ONNX Runtime setting (refused, and
// left out of the parameters, for a workload without sessions);
// `auto:"cores"` makes 0 mean "one per usable physical core" (Machine),
// resolved at expansion and recorded as a derived fact; on an ORT thread
// key, -1 leaves ORT's pool at its own default (ORTDefaultThreads).
type Config interface {
	// Common is the part every strategy has (embedded Base).
	Common() *Base
	// Validate reports every problem, each a *KeyError naming its key.
	Validate() []error
	// Describe is the one line `validate` prints.
	Describe() string
	// Shape is what the runtime and the core count read.
	Shape() Shape
}

// Resources is what a cell holds at its peak besides the runner's own
// process and data: ORT sessions, worker processes, and copies of the
// dataset in them. The memory estimate (config) and the shard cost read it.
type Resources struct {
	Sessions, Processes, DataCopies int
	// SharedData: the cell's processes map the runner's own rows, which
	// the runner moves into shared memory before the first cell
	// (workload.Sharer) — one copy for the whole tree.
	SharedData bool
}

// ResourcesOf is cfg's Resources (its config's Resources method, in the
// strategy's own file); one in-process session when it declares none.
func ResourcesOf(cfg Config) Resources {
	if r, ok := cfg.(interface{ Resources() Resources }); ok {
		return r.Resources()
	}
	return Resources{Sessions: 1}
}

// resolver is implemented by configs with defaults that depend on other
// keys (pipeline's queue depth on its workers); Resolve runs after decoding.
type resolver interface {
	Resolve()
}

// Base is embedded in every strategy config.
type Base struct {
	Spinning bool `key:"spinning" ort:"true" search:"bool" rank:"1"`
	// Provider is the execution provider (provider.go): cpu, openvino,
	// cuda, tensorrt or an EP name; ProviderOptions its options as
	// key=value,… text; ProviderLibrary its plugin library where `make`
	// did not put it.
	Provider        string `key:"provider" ort:"true" ep:"true"`
	ProviderOptions string `key:"provider_options" ort:"true" ep:"true"`
	ProviderLibrary string `key:"provider_library" ort:"true" ep:"true"`
	BatchSize       int    `key:"batch_size" search:"batch" rank:"5"`
	// Facts are derived, never given: the runner records them apart from
	// the user's keys.
	Facts Facts `key:"-"`
}

// Pinning is embedded by the configs of strategies that can pin their
// workers to CPUs (affinity.go).
type Pinning struct {
	// Affinity pins each worker (its goroutine's thread or its process, and
	// its session's intra-op threads) to its own CPUs.
	Affinity bool `key:"affinity" search:"bool" rank:"0.5"`
	// Placement "numa" spreads the workers across NUMA nodes, each
	// worker's threads within its node; Cores restricts the cell to a CPU
	// list or a core type (placement.go). Either pins the cell.
	Placement string `key:"placement"`
	Cores     string `key:"cores"`
	// layout is what they resolved to at decoding, err what was wrong.
	layout Layout
	err    error
}

func (p *Pinning) pinned() bool      { return p.Affinity }
func (p *Pinning) pinning() *Pinning { return p }

// pinner is a config with a Pinning block.
type pinner interface{ pinning() *Pinning }

// Describe is cfg's one line, with what the shared blocks add (pinning).
func Describe(cfg Config) string {
	d := cfg.Describe()
	if p, ok := cfg.(pinner); ok && p.pinning().pinned() {
		d += "; each worker pinned to its own CPUs" + p.pinning().placeWord()
	}
	return d + providerWord(cfg.Common())
}

// Common returns the shared part of a config.
func (b *Base) Common() *Base { return b }

// Facts are what ortbench derived about a cell rather than read from the file.
type Facts struct {
	// NoORT marks a workload without ORT sessions (the heavy task):
	// descriptions leave sessions and threads out.
	NoORT bool
	// Auto lists keys given as 0 and resolved to the physical core count.
	Auto []string
	// ORTDefault lists keys given as -1 (ORTDefaultThreads): ORT sizes
	// their pool itself; the field holds what it will use.
	ORTDefault []string
	// Parallel is ORT's parallel execution mode (inter-op).
	Parallel bool
}

// Shape is a cell's concurrency as the runtime sees it.
type Shape struct {
	Workers  int // goroutines, sessions or processes running batches at once
	Threads  int // intra-op threads per session
	InterOp  int // inter-op threads (parallel execution mode only)
	Parallel bool
}

// Cores is how many threads the cell keeps busy at most.
func (s Shape) Cores() int {
	t := max(s.Threads, 1)
	if s.InterOp > 1 {
		t *= s.InterOp
	}
	return max(s.Workers, 1) * t
}

// KeyError is a validation problem with one key of a strategy entry.
type KeyError struct {
	Key, Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

func keyErr(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// atLeast returns a validation error when v < lo. A key left out reads
// as 0, so a 0 says that it may be missing.
func atLeast(key string, v, lo int) error {
	if v == 0 && lo > 0 {
		return keyErr(key, "missing or 0: it must be ≥ %d", lo)
	}
	if v < lo {
		return keyErr(key, "must be ≥ %d, got %d", lo, v)
	}
	return nil
}

// oneOf returns a validation error when v is not among valid.
func oneOf(key, v string, valid []string) error {
	for _, s := range valid {
		if v == s {
			return nil
		}
	}
	return keyErr(key, "%q: want one of %s", v, strings.Join(valid, ", "))
}

// collect drops the nil errors.
func collect(errs ...error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Key describes one config key of a strategy.
type Key struct {
	Name string
	Type string // "int", "float", "bool", "string" (results.ParamKey's words)
	ORT  bool   // an ONNX Runtime setting
	Auto bool   // 0 = one per physical core
	// Search is the key's search tag (how tune varies it, search.go; ""
	// when tune leaves it alone), Rank its rank tag; Duration: a
	// time.Duration, written as text.
	Search   string
	Rank     float64
	Duration bool
	// EP marks the execution-provider keys, which the py-* strategies
	// (the Python wheel's CPU EP) do not take.
	EP bool
}

// fieldsOf walks a config struct's keyed fields in parameter order: the
// strategy's own fields first, then Base's.
func fieldsOf(v reflect.Value, visit func(k Key, f reflect.Value)) {
	var base reflect.Value
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type == reflect.TypeOf(Base{}) {
			base = v.Field(i)
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			fieldsOf(v.Field(i), visit) // an embedded block of keys (Pinning)
			continue
		}
		name := sf.Tag.Get("key")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		rank, err := strconv.ParseFloat(sf.Tag.Get("rank"), 64)
		if err != nil {
			rank = 2
		}
		visit(Key{Name: name, Type: typeWord(sf.Type), ORT: sf.Tag.Get("ort") == "true", Auto: sf.Tag.Get("auto") == "cores",
			Search: sf.Tag.Get("search"), Rank: rank, Duration: sf.Type == durationType, EP: sf.Tag.Get("ep") == "true"}, v.Field(i))
	}
	if base.IsValid() {
		fieldsOf(base, visit)
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

// typeWord is a key's type in results.ParamKey's words; a duration is
// written as text ("1ms").
func typeWord(t reflect.Type) string {
	if t == durationType {
		return "string"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "int"
	case reflect.Float64, reflect.Float32:
		return "float"
	case reflect.Bool:
		return "bool"
	}
	return "string"
}

// Keys lists a definition's keys in parameter order (batch_size included).
func (d Definition) Keys() []Key {
	var keys []Key
	cfg := d.NewConfig()
	fieldsOf(reflect.ValueOf(cfg).Elem(), func(k Key, _ reflect.Value) {
		if !k.EP || !pythonSide(cfg) {
			keys = append(keys, k)
		}
	})
	return keys
}

// ConfigKeys are the keys a strategies[] entry may give (batch_size comes
// from batch_sizes), leaving out ORT settings when the workload has none.
func (d Definition) ConfigKeys(noORT bool) []string {
	var names []string
	for _, k := range d.Keys() {
		if k.Name == "batch_size" || (noORT && k.ORT) {
			continue
		}
		names = append(names, k.Name)
	}
	return names
}

// Params is a config's parameter list: every key with its resolved value,
// in field order; ORT settings are left out for a workload without sessions.
func Params(cfg Config) results.Params {
	noORT := cfg.Common().Facts.NoORT
	var ps results.Params
	fieldsOf(reflect.ValueOf(cfg).Elem(), func(k Key, f reflect.Value) {
		if noORT && k.ORT || k.EP && pythonSide(cfg) {
			return
		}
		v := plainValue(f)
		if slices.Contains(cfg.Common().Facts.ORTDefault, k.Name) {
			v = int64(ORTDefaultThreads) // the cell is what was asked for, not this host's count
		}
		ps = append(ps, results.Param{Key: k.Name, Value: v})
	})
	return ps
}

// Derived is a config's derived facts as a parameter list (apart from the
// user's keys): keys resolved from 0, the execution mode.
func Derived(cfg Config) results.Params {
	f := cfg.Common().Facts
	var ps results.Params
	if !f.NoORT {
		mode := "sequential"
		if f.Parallel {
			mode = "parallel"
		}
		ps = append(ps, results.Param{Key: "execution_mode", Value: mode})
	}
	for _, k := range f.Auto {
		ps = append(ps, results.Param{Key: k + "_auto", Value: true})
	}
	for _, k := range f.ORTDefault {
		ps = append(ps, results.Param{Key: k + "_ort_default", Value: true})
	}
	return ps
}

func plainValue(f reflect.Value) any {
	if f.Type() == durationType {
		return time.Duration(f.Int()).String()
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return f.Int()
	case reflect.Float64, reflect.Float32:
		return f.Float()
	case reflect.Bool:
		return f.Bool()
	}
	return f.String()
}

// Machine is what decoding needs to know about the host: its usable
// cores (sysinfo.ReadCores: affinity ∩ cpuset, capped by the cgroup quota),
// not the host's. The warnings it gives are in machine.go.
type Machine struct {
	LogicalCores  int // usable logical cores
	PhysicalCores int // usable physical cores: what `threads: 0` resolves to
	// Quota is the cgroup CPU quota in cores (0: none); HostPhysicalCores
	// is what ORT sizes a default pool (`threads: -1`) from.
	Quota             float64
	HostPhysicalCores int
	// Topology is the NUMA nodes and core types among the usable CPUs.
	Topology *results.Cores
}

// DecodeOptions is what a cell's config is decoded with besides its point.
type DecodeOptions struct {
	Batch    int                         // the cell's batch size
	Spinning bool                        // session.spinning: ORT's threads spin-wait
	NoORT    bool                        // the workload opens no ORT session (the heavy task)
	Machine  Machine                     // resolves 0 for keys that allow it; zero: no resolving
	Hook     mapstructure.DecodeHookFunc // extra conversions (config's strict hook); nil: none
}

// Decode makes one cell's config: the definition's defaults, then the
// given values (one value per key: sweeps are expanded before) decoded
// strictly, then 0 resolved to the physical cores where a key allows it and
// dependent defaults filled. The error is mapstructure's, for the caller to
// locate; validation is separate (Config.Validate).
func (d Definition) Decode(point map[string]any, o DecodeOptions) (Config, error) {
	cfg := d.NewConfig()
	b := cfg.Common()
	b.Spinning, b.BatchSize = o.Spinning, o.Batch
	b.Facts.NoORT = o.NoORT
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		TagName: "key", ErrorUnused: true, Squash: true, DecodeHook: o.Hook, Result: cfg,
	})
	if err != nil {
		return nil, err
	}
	if err := dec.Decode(coresAsText(point)); err != nil {
		return nil, err
	}
	if b.Provider == "" { // not given, or given empty (a written-out default)
		b.Provider = DefaultProvider
	}
	m := o.Machine
	if p, ok := cfg.(pinner); ok {
		m = p.pinning().place(m, point) // automatic keys count the restricted CPUs
	}
	fieldsOf(reflect.ValueOf(cfg).Elem(), func(k Key, f reflect.Value) {
		if _, given := point[k.Name]; k.Auto && given && f.Kind() == reflect.Int {
			m.resolve(k, f, &b.Facts)
		}
	})
	if r, ok := cfg.(resolver); ok {
		r.Resolve()
	}
	return cfg, nil
}

// AutoResolved reports whether key was given as 0 and resolved.
func (f Facts) AutoResolved(key string) bool {
	for _, k := range f.Auto {
		if k == key {
			return true
		}
	}
	return false
}

// ParamKeys is the union of every registered strategy's keys, in registry
// order: the parameter columns of results.csv and results.parquet.
func (r Registry) ParamKeys() []results.ParamKey {
	var keys []results.ParamKey
	seen := map[string]bool{}
	for _, name := range r.Names() {
		for _, k := range r[name].Keys() {
			if !seen[k.Name] {
				seen[k.Name] = true
				keys = append(keys, results.ParamKey{Key: k.Name, Type: k.Type})
			}
		}
	}
	return keys
}
