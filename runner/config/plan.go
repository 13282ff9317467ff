package config

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
)

// Schedules: how the cells' repetitions are ordered in time.
const (
	ScheduleInterleaved = "interleaved"
	ScheduleSequential  = "sequential"
)

// Cell is one point of the plan.
type Cell struct {
	Index    int
	Name     string
	Strategy string
	// Config is the cell's typed strategy config; Params is its parameter
	// list (derived from Config: the one source of every output's keys).
	Config      strategy.Config
	Params      results.Params
	Description string
	Warnings    []string
}

// Plan is a validated config with every cell spelled out.
type Plan struct {
	Config   *Config
	Cells    []Cell
	Warnings []string
	// entries maps a cell's name to its strategies[] entry key.
	entries map[string]string
}

// Machine is what expansion needs to know about the host.
type Machine = strategy.Machine

// Abs resolves a path from the config relative to the config's directory.
func (c *Config) Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Errorf reports a problem at a key of this config's file.
func (c *Config) Errorf(key, format string, args ...any) error {
	return c.loc.errorf(key, format, args...)
}

// Expand validates the config's own values and expands the strategies into
// cells. It reports every problem it finds, not just the first. formats are
// the output format names this binary writes (output.formats is checked
// against them; none given: not checked).
func Expand(c *Config, reg strategy.Registry, m Machine, formats ...string) (*Plan, error) {
	var errs Errors
	bad := func(key, format string, args ...any) {
		// A key that failed to decode is reported once, by Load.
		if !c.loc.failedUnder(key) {
			errs = append(errs, c.Errorf(key, format, args...))
		}
	}

	heavy := c.Workload.Kind == "heavy-task"
	checkWorkload(c, heavy, bad)
	checkSettings(c, formats, bad)
	if len(c.Strategies) == 0 {
		bad("strategies", "needs at least one strategy (valid: %s)", strings.Join(reg.Names(), ", "))
	}
	// Upper bounds, names and paths (limits.go).
	checkRanges(c, bad)
	checkLoad(c, reg, bad) // the load section (load_section.go)

	pl := &planner{c: c, reg: reg, m: m, p: &Plan{Config: c}, names: map[string]string{}, ids: map[string]planned{}, errs: &errs, bad: bad}
	for i, raw := range c.Strategies {
		pl.entry(i, raw, heavy)
	}
	checkStreaming(c, reg, pl.p.Cells, pl.names, bad) // streaming.go
	if len(errs) > 0 {
		return nil, errs
	}
	pl.p.entries = pl.names
	return pl.p, nil
}

// checkWorkload checks the workload section (and fills its kind: onnx
// when only a model is given).
func checkWorkload(c *Config, heavy bool, bad func(key, format string, args ...any)) {
	switch c.Workload.Kind {
	case "":
		if c.Workload.Model == "" {
			bad("workload", "set workload.model (an .onnx file, with workload.dataset.path or generated inputs), or kind: heavy-task")
		}
		c.Workload.Kind = "onnx"
	case "onnx", "heavy-task":
	default:
		bad("workload.kind", "%q is not a workload kind (want onnx or heavy-task)", c.Workload.Kind)
	}
	if heavy {
		if c.Workload.Items < 1 {
			bad("workload.items", "heavy-task needs items ≥ 1 (items per pass), got %d", c.Workload.Items)
		}
		if c.Workload.Cost < 1 {
			bad("workload.cost", "heavy-task needs cost ≥ 1 (rounds per item), got %d", c.Workload.Cost)
		}
		if c.Workload.Model != "" || c.Workload.Dataset.Path != "" {
			bad("workload", "heavy-task takes no model or dataset; remove them or use kind: onnx")
		}
	} else if c.Workload.Kind == "onnx" {
		if c.Workload.Model == "" {
			bad("workload.model", "missing: set the path of an .onnx model")
		}
		checkFeeds(c, bad) // feeds.go
		if c.Workload.Cost != 0 {
			bad("workload.cost", "belongs to kind: heavy-task")
		}
		if len(c.Workload.Dataset.Features) > 0 && c.Workload.Dataset.TensorColumn != "" {
			bad("workload.dataset", "set features or tensor_column, not both")
		}
	}
	if c.Workload.Rows < 0 {
		bad("workload.rows", "must be ≥ 0 (0 = all rows), got %d", c.Workload.Rows)
	}
}

// checkSettings checks the run's settings: batch sizes, repetitions and
// their bounds, the schedule, the session, verification and output.
func checkSettings(c *Config, formats []string, bad func(key, format string, args ...any)) {
	if len(c.BatchSizes) == 0 {
		bad("batch_sizes", "needs at least one batch size")
	}
	for i, b := range c.BatchSizes {
		if b < 1 {
			bad(fmt.Sprintf("batch_sizes[%d]", i), "must be ≥ 1, got %d", b)
		}
	}
	if c.WarmupBatches < 0 {
		bad("warmup_batches", "must be ≥ 0, got %d", c.WarmupBatches)
	}
	if c.Repetitions < 1 {
		bad("repetitions", "must be ≥ 1, got %d", c.Repetitions)
	}
	if c.MinDuration < 0 {
		bad("min_duration", "must be ≥ 0, got %s", c.MinDuration)
	}
	switch c.Schedule {
	case ScheduleInterleaved, ScheduleSequential:
	default:
		bad("schedule", "%q: want interleaved (rounds of every cell, in a seeded random order) or sequential (cell after cell)", c.Schedule)
	}
	if c.TargetInterval < 0 || c.TargetInterval >= 1 {
		bad("target_interval", "must be ≥ 0 and < 1 (0.05 = repeat until every interval is within ±5%%; 0 = exactly repetitions), got %g", c.TargetInterval)
	}
	if c.MaxDuration <= 0 {
		bad("max_duration", "must be > 0 (it bounds repetitions until stable), got %s", c.MaxDuration)
	}
	if c.NoiseThreshold <= 0 {
		bad("noise_threshold", "must be > 0 (cores other processes may use before a repetition is disturbed), got %g", c.NoiseThreshold)
	}
	if err := results.CheckPercentiles(c.Percentiles); err != nil {
		bad("percentiles", "%v", err)
	}
	if c.UnstableSpread <= 0 {
		bad("unstable_spread", "must be > 0 (e.g. 0.25 flags a cell whose repetitions differ by > 25%%), got %g", c.UnstableSpread)
	}
	if !slices.Contains(onnx.GraphOptimizationLevels, c.Session.GraphOptimization) {
		bad("session.graph_optimization", "%q: want one of %s", c.Session.GraphOptimization, strings.Join(onnx.GraphOptimizationLevels, ", "))
	}
	if err := verify.CheckTolerance(c.Verify.Tolerance); err != nil {
		bad("verify.tolerance", "%v", err)
	}
	for i, f := range c.Output.Formats {
		if len(formats) > 0 && !slices.Contains(formats, f) {
			hint := ""
			if s := Suggest(f, formats); s != "" {
				hint = fmt.Sprintf("did you mean %s? ", s)
			}
			bad(fmt.Sprintf("output.formats[%d]", i), "unknown format %q (%svalid: %s; omit the list for all)", f, hint, strings.Join(formats, ", "))
		}
	}
	if c.Output.Dir == "" {
		bad("output.dir", "must not be empty")
	}
}

// planned is a cell already in the plan: its name, its entry's key and
// whether a key of it was resolved from 0.
type planned struct {
	name, key string
	auto      bool
}

// planner adds the strategies' entries to the plan, one at a time, and
// refuses duplicate cells.
type planner struct {
	c     *Config
	reg   strategy.Registry
	m     Machine
	p     *Plan
	names map[string]string  // cell name → the entry's key
	ids   map[string]planned // strategy and parameters → the cell
	total int
	errs  *Errors
	bad   func(key, format string, args ...any)
}

// entry expands strategies[i] and adds its cells: a cell over its limits
// or a duplicate is an error, except one that only 0 resolved to the
// same settings as another (then measured once, with a warning).
func (pl *planner) entry(i int, raw map[string]any, heavy bool) {
	c, bad := pl.c, pl.bad
	key := fmt.Sprintf("strategies[%d]", i)
	if c.loc.failedUnder(key) {
		return
	}
	if n := sweepSize(c, raw); n > MaxCells || pl.total+n > MaxCells {
		bad(key, "sweeps %d cells, the plan would have more than %d; split the experiment", n, MaxCells)
		return
	}
	cells, cerrs := pl.expandEntry(key, raw, heavy)
	*pl.errs = append(*pl.errs, cerrs...)
	pl.total += len(cells)
	for _, cell := range cells {
		if at, msg := cellLimit(c, key, cell, pl.m); msg != "" {
			if _, given := raw[strings.TrimPrefix(at, key+".")]; !given {
				at = key
			}
			bad(at, "%s", msg)
			continue
		}
		pl.add(key, cell)
	}
}

// add puts cell (from entry key) in the plan unless it duplicates one.
func (pl *planner) add(key string, cell Cell) {
	p, bad := pl.p, pl.bad
	// Identity is the whole parameter list, not the name: two
	// entries can name the same settings differently.
	id := cell.Strategy + "/" + cell.Params.Path()
	if prev, dup := pl.ids[id]; dup {
		if auto := len(cell.Config.Common().Facts.Auto) > 0; !auto && !prev.auto {
			bad(key, "cell %s has the same settings as %s from %s; remove the duplicate", cell.Name, prev.name, prev.key)
		} else {
			// Different words, same settings on this machine (threads
			// 0 = the physical cores): measure it once, say so.
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s has the same settings as %s on this machine; measured once", key, cell.Name, prev.name))
		}
		return
	}
	if prev, dup := pl.names[cell.Name]; dup {
		bad(key, "cell %s is already planned by %s; remove the duplicate", cell.Name, prev)
		return
	}
	pl.ids[id] = planned{cell.Name, key, len(cell.Config.Common().Facts.Auto) > 0}
	pl.names[cell.Name] = key
	cell.Index = len(p.Cells)
	p.Cells = append(p.Cells, cell)
}

// expandEntry expands one strategies[] entry: any key given as a list is
// swept (cartesian product in the strategy's key order, batch size
// outermost), and each point is decoded strictly into the strategy's typed
// config, validated and described.
func (pl *planner) expandEntry(key string, raw map[string]any, heavy bool) ([]Cell, Errors) {
	e := &entry{c: pl.c, m: pl.m, key: key, raw: raw, heavy: heavy}
	if !e.strategy(pl.reg) {
		return nil, e.errs
	}
	given := e.keys()
	batches := e.batchSizes()
	axes := e.axes(given)
	if len(e.errs) > 0 {
		return nil, e.errs
	}
	pts := e.points(axes)
	var cells []Cell
	for _, b := range batches {
		for _, pt := range pts {
			if cell, ok := e.cell(b, pt); ok {
				cells = append(cells, cell)
			}
		}
	}
	return cells, e.errs
}

// entry is one strategies[] entry being expanded, and its errors.
type entry struct {
	c     *Config
	m     Machine
	key   string         // strategies[i]
	raw   map[string]any // the entry as written
	heavy bool           // the heavy task: no ORT keys
	def   strategy.Definition
	errs  Errors
}

func (e *entry) bad(k, format string, args ...any) {
	e.errs = append(e.errs, e.c.Errorf(k, format, args...))
}

// strategy finds the entry's strategy in reg; false (with the error) when
// it is missing, unknown, or needs ORT for the heavy task.
func (e *entry) strategy(reg strategy.Registry) bool {
	key := e.key
	name, _ := e.raw["strategy"].(string)
	if _, ok := e.raw["strategy"]; !ok || name == "" {
		e.bad(key, "missing strategy: (valid: %s)", strings.Join(reg.Names(), ", "))
		return false
	}
	def, ok := reg[name]
	if !ok {
		hint := ""
		if s := Suggest(name, reg.Names()); s != "" {
			hint = fmt.Sprintf("did you mean %s? ", s)
		}
		e.bad(key+".strategy", "unknown strategy %q (%svalid: %s)", name, hint, strings.Join(reg.Names(), ", "))
		return false
	}
	if e.heavy && def.NeedsORT {
		e.bad(key+".strategy", "%s tunes ONNX Runtime sessions and cannot run the heavy task (it has no model); remove it or use an onnx workload", def.Name)
		return false
	}
	e.def = def
	return true
}

// keys are the entry's strategy keys by lower-case name; a key the
// strategy does not take (or, for the heavy task, an ORT key) is an error.
func (e *entry) keys() map[string]any {
	def, key := e.def, e.key
	accepted := def.ConfigKeys(e.heavy)
	all := def.ConfigKeys(false)
	given := map[string]any{}
	for k, v := range e.raw {
		lk := strings.ToLower(k)
		switch {
		case lk == "strategy" || lk == "batch_sizes":
		case slices.Contains(accepted, lk):
			given[lk] = v
		case slices.Contains(all, lk):
			e.bad(key+"."+k, "%s is an ONNX Runtime setting; the heavy task has none", lk)
		default:
			takes := "no parameters besides batch_sizes"
			if len(accepted) > 0 {
				takes = strings.Join(accepted, ", ") + " and batch_sizes"
			}
			hint := ""
			if s := Suggest(lk, append(slices.Clone(accepted), "batch_sizes")); s != "" {
				hint = fmt.Sprintf("did you mean %s? ", s)
			}
			e.bad(key+"."+k, "%s does not take %s (%sit takes %s)", def.Name, k, hint, takes)
		}
	}
	return given
}

// batchSizes are the entry's own batch_sizes, else the experiment's.
func (e *entry) batchSizes() []int {
	key := e.key
	v, ok := e.raw["batch_sizes"]
	if !ok {
		return e.c.BatchSizes
	}
	var bl IntList
	dec, _ := mapstructure.NewDecoder(&mapstructure.DecoderConfig{DecodeHook: decodeHook(), Result: &bl})
	if err := dec.Decode(v); err != nil {
		e.errs = append(e.errs, e.c.loc.decodeErrors(err, key+".batch_sizes")...)
	}
	if len(bl) == 0 {
		e.bad(key+".batch_sizes", "an empty list sweeps nothing; give at least one value")
	}
	for j, b := range bl {
		if b < 1 {
			e.bad(fmt.Sprintf("%s.batch_sizes[%d]", key, j), "must be ≥ 1, got %d", b)
		}
	}
	return bl
}

// axis is one key's values: a list is a sweep, anything else one value.
type axis struct {
	key    string
	values []any
	list   bool
}

// axes are the given keys' values, in the strategy's key order.
func (e *entry) axes(given map[string]any) []axis {
	var axes []axis
	for _, k := range e.def.ConfigKeys(e.heavy) {
		v, ok := given[k]
		if !ok {
			continue
		}
		if l, isList := v.([]any); isList {
			if len(l) == 0 {
				e.bad(e.key+"."+k, "an empty list sweeps nothing; give at least one value")
			}
			axes = append(axes, axis{k, l, true})
		} else {
			axes = append(axes, axis{k, []any{v}, false})
		}
	}
	return axes
}

// point is one cell's values; from says where each came from, so a decode
// error names the list element.
type point struct {
	values map[string]any
	from   map[string]string
}

// points is the cartesian product of the axes, in key order.
func (e *entry) points(axes []axis) []point {
	pts := []point{{values: map[string]any{}, from: map[string]string{}}}
	for _, ax := range axes {
		var next []point
		for _, pt := range pts {
			for i, v := range ax.values {
				q := point{values: maps.Clone(pt.values), from: maps.Clone(pt.from)}
				q.values[ax.key] = v
				q.from[ax.key] = e.key + "." + ax.key
				if ax.list {
					q.from[ax.key] = fmt.Sprintf("%s.%s[%d]", e.key, ax.key, i)
				}
				next = append(next, q)
			}
		}
		pts = next
	}
	return pts
}

// cell decodes, names, validates and describes the cell at batch size b
// and point pt; false (with the errors) when it does not decode or
// validate.
func (e *entry) cell(b int, pt point) (Cell, bool) {
	c, def, key := e.c, e.def, e.key
	cfg, err := def.Decode(pt.values, strategy.DecodeOptions{
		Batch: b, Spinning: c.Session.Spinning, NoORT: e.heavy, Machine: e.m, Hook: strictHook(),
	})
	if err != nil {
		e.errs = append(e.errs, pointErrors(c, err, key, pt.from)...)
		return Cell{}, false
	}
	params := strategy.Params(cfg)
	var parts []string
	for _, p := range params {
		if _, ok := pt.values[p.Key]; ok || p.Key == "batch_size" {
			parts = append(parts, p.Key+"="+results.FormatValue(p.Value))
		}
	}
	cell := Cell{
		Name:     def.Name + "/" + strings.Join(parts, "/"),
		Strategy: def.Name,
		Config:   cfg,
		Params:   params,
	}
	if verrs := strategy.Validate(cfg); len(verrs) > 0 {
		for _, ve := range verrs {
			var ke *strategy.KeyError
			if errors.As(ve, &ke) {
				at := pt.from[ke.Key]
				if at == "" {
					at = key + "." + ke.Key
				}
				e.bad(at, "%s: %s", cell.Name, ke.Msg)
			} else {
				e.bad(key, "%s: %v", cell.Name, ve)
			}
		}
		return Cell{}, false
	}
	cell.Description = strategy.Describe(cfg)
	cell.Warnings = append(cell.Warnings, e.m.Warnings(cfg)...)
	return cell, true
}

var (
	quotedKey = regexp.MustCompile(`^'(?:[a-z]+\.[A-Z]\w*\.?)?([^']*)' (.*)$`)
	unusedKey = regexp.MustCompile(`has invalid keys: (.*)$`)
)

// pointErrors locates the decode errors of one sweep point: a value that
// came from a list is named by its element (strategies[1].workers[2]).
func pointErrors(c *Config, err error, key string, from map[string]string) Errors {
	var out Errors
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* "))
		m := quotedKey.FindStringSubmatch(line)
		if m == nil || unusedKey.MatchString(line) {
			continue
		}
		at := from[m[1]]
		if at == "" {
			at = key + "." + m[1]
		}
		msg := strings.Join(strings.Fields(strings.ReplaceAll(m[2], "unconvertible type", "")), " ")
		out = append(out, c.Errorf(at, "%s", msg))
	}
	if len(out) == 0 {
		return c.loc.decodeErrors(err, key)
	}
	return out
}
