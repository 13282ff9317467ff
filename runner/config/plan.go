package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Sweep is one strategies[] entry as written: any parameter may be a list.
type Sweep struct {
	Strategy       string     `mapstructure:"strategy"`
	Workers        IntList    `mapstructure:"workers"`
	Threads        IntList    `mapstructure:"threads"`
	InterOpThreads IntList    `mapstructure:"inter_op_threads"`
	QueueDepth     IntList    `mapstructure:"queue_depth"`
	Spinning       BoolList   `mapstructure:"spinning"`
	Transport      StringList `mapstructure:"transport"`
	Start          StringList `mapstructure:"start"`
	StartMethod    StringList `mapstructure:"start_method"`
	Data           StringList `mapstructure:"data"`
	BatchSizes     IntList    `mapstructure:"batch_sizes"`
}

// sweepKeys are the parameter keys in the order cells are named and expanded.
var sweepKeys = []string{"workers", "threads", "inter_op_threads", "queue_depth", "spinning", "transport", "start", "start_method", "data"}

// Cell is one point of the plan.
type Cell struct {
	Index       int
	Name        string
	Strategy    string
	Params      strategy.Params
	Description string
	Warnings    []string
}

// Plan is a validated config with every cell spelled out.
type Plan struct {
	Config   *Config
	Cells    []Cell
	Warnings []string
}

// Machine is what expansion needs to know about the host.
type Machine struct {
	LogicalCores  int
	PhysicalCores int
}

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
// cells. It reports every problem it finds, not just the first.
func Expand(c *Config, reg strategy.Registry, m Machine) (*Plan, error) {
	var errs Errors
	bad := func(key, format string, args ...any) { errs = append(errs, c.Errorf(key, format, args...)) }

	heavy := c.Workload.Kind == "heavy-task"
	switch c.Workload.Kind {
	case "":
		if c.Workload.Model == "" {
			bad("workload", "set workload.model (an .onnx file) and workload.dataset.path, or kind: heavy-task")
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
		if c.Workload.Dataset.Path == "" {
			bad("workload.dataset.path", "missing: set a Parquet or Arrow IPC file")
		}
		if c.Workload.Items != 0 || c.Workload.Cost != 0 {
			bad("workload", "items and cost belong to kind: heavy-task")
		}
		if len(c.Workload.Dataset.Features) > 0 && c.Workload.Dataset.TensorColumn != "" {
			bad("workload.dataset", "set features or tensor_column, not both")
		}
	}
	if c.Workload.Rows < 0 {
		bad("workload.rows", "must be ≥ 0 (0 = all rows), got %d", c.Workload.Rows)
	}
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
	if c.UnstableSpread <= 0 {
		bad("unstable_spread", "must be > 0 (e.g. 0.25 flags a cell whose repetitions differ by > 25%%), got %g", c.UnstableSpread)
	}
	if c.SampleInterval < 0 || (c.SampleInterval > 0 && c.SampleInterval.Milliseconds() < 5) {
		bad("sample_interval", "must be ≥ 5ms, got %s", c.SampleInterval)
	}
	if !slices.Contains(onnx.GraphOptimizationLevels, c.Session.GraphOptimization) {
		bad("session.graph_optimization", "%q: want one of %s", c.Session.GraphOptimization, strings.Join(onnx.GraphOptimizationLevels, ", "))
	}
	if c.Verify.Tolerance < 0 {
		bad("verify.tolerance", "must be ≥ 0, got %g", c.Verify.Tolerance)
	}
	for i, f := range c.Output.Formats {
		if _, err := results.Lookup(f); err != nil {
			bad(fmt.Sprintf("output.formats[%d]", i), "%v", err)
		}
	}
	if c.Output.Dir == "" {
		bad("output.dir", "must not be empty")
	}
	if len(c.Strategies) == 0 {
		bad("strategies", "needs at least one strategy (valid: %s)", strings.Join(reg.Names(), ", "))
	}

	p := &Plan{Config: c}
	names := map[string]string{}
	for i, raw := range c.Strategies {
		key := fmt.Sprintf("strategies[%d]", i)
		cells, cerrs := expandEntry(c, reg, m, key, raw, heavy)
		errs = append(errs, cerrs...)
		for _, cell := range cells {
			if prev, dup := names[cell.Name]; dup {
				bad(key, "cell %s is already planned by %s; remove the duplicate", cell.Name, prev)
				continue
			}
			names[cell.Name] = key
			cell.Index = len(p.Cells)
			p.Cells = append(p.Cells, cell)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func expandEntry(c *Config, reg strategy.Registry, m Machine, key string, raw map[string]any, heavy bool) ([]Cell, Errors) {
	var errs Errors
	bad := func(k, format string, args ...any) { errs = append(errs, c.Errorf(k, format, args...)) }
	var sw Sweep
	dec, _ := mapstructure.NewDecoder(&mapstructure.DecoderConfig{ErrorUnused: true, DecodeHook: decodeHook(), Result: &sw})
	if err := dec.Decode(raw); err != nil {
		return nil, c.loc.decodeErrors(err, key)
	}
	if sw.Strategy == "" {
		bad(key, "missing strategy: (valid: %s)", strings.Join(reg.Names(), ", "))
		return nil, errs
	}
	def, err := reg.Lookup(sw.Strategy)
	if err != nil {
		bad(key+".strategy", "%v", err)
		return nil, errs
	}
	if heavy && def.NeedsORT {
		bad(key+".strategy", "%s tunes ONNX Runtime sessions and cannot run the heavy task (it has no model); remove it or use an onnx workload", def.Name)
		return nil, errs
	}
	given := map[string]bool{}
	for k := range raw {
		given[strings.ToLower(k)] = true
	}
	for _, k := range sweepKeys {
		if given[k] && !slices.Contains(def.Keys, k) {
			accepts := "no parameters besides batch_sizes"
			if len(def.Keys) > 0 {
				accepts = strings.Join(def.Keys, ", ") + " and batch_sizes"
			}
			bad(key+"."+k, "%s does not take %s (it takes %s)", def.Name, k, accepts)
		}
	}
	lists := map[string]int{}
	check := func(k string, n int) {
		if given[k] && n == 0 {
			bad(key+"."+k, "an empty list sweeps nothing; give at least one value")
		}
		lists[k] = n
	}
	check("workers", len(sw.Workers))
	check("threads", len(sw.Threads))
	check("inter_op_threads", len(sw.InterOpThreads))
	check("queue_depth", len(sw.QueueDepth))
	check("spinning", len(sw.Spinning))
	check("transport", len(sw.Transport))
	check("start", len(sw.Start))
	check("start_method", len(sw.StartMethod))
	check("data", len(sw.Data))
	batches := []int(c.BatchSizes)
	if given["batch_sizes"] {
		batches = sw.BatchSizes
		for j, b := range batches {
			if b < 1 {
				bad(fmt.Sprintf("%s.batch_sizes[%d]", key, j), "must be ≥ 1, got %d", b)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}

	// Cartesian product in sweepKeys order, batch size outermost.
	type point struct {
		p     strategy.Params
		parts []string
	}
	pts := []point{{}}
	expand := func(k string, n int, set func(*strategy.Params, int) string) {
		if n == 0 {
			return
		}
		var next []point
		for _, pt := range pts {
			for i := range n {
				q := pt.p
				label := set(&q, i)
				next = append(next, point{p: q, parts: append(slices.Clone(pt.parts), k+"="+label)})
			}
		}
		pts = next
	}
	expand("workers", len(sw.Workers), func(p *strategy.Params, i int) string { p.Workers = sw.Workers[i]; return strconv.Itoa(sw.Workers[i]) })
	expand("threads", len(sw.Threads), func(p *strategy.Params, i int) string { p.Threads = sw.Threads[i]; return strconv.Itoa(sw.Threads[i]) })
	expand("inter_op_threads", len(sw.InterOpThreads), func(p *strategy.Params, i int) string {
		p.InterOpThreads = sw.InterOpThreads[i]
		return strconv.Itoa(sw.InterOpThreads[i])
	})
	expand("queue_depth", len(sw.QueueDepth), func(p *strategy.Params, i int) string {
		p.QueueDepth = sw.QueueDepth[i]
		return strconv.Itoa(sw.QueueDepth[i])
	})
	expand("spinning", len(sw.Spinning), func(p *strategy.Params, i int) string {
		p.Spinning = sw.Spinning[i]
		return strconv.FormatBool(sw.Spinning[i])
	})
	expand("transport", len(sw.Transport), func(p *strategy.Params, i int) string { p.Transport = sw.Transport[i]; return sw.Transport[i] })
	expand("start", len(sw.Start), func(p *strategy.Params, i int) string { p.Start = sw.Start[i]; return sw.Start[i] })
	expand("start_method", len(sw.StartMethod), func(p *strategy.Params, i int) string {
		p.StartMethod = sw.StartMethod[i]
		return sw.StartMethod[i]
	})
	expand("data", len(sw.Data), func(p *strategy.Params, i int) string { p.Data = sw.Data[i]; return sw.Data[i] })

	var cells []Cell
	for _, b := range batches {
		for _, pt := range pts {
			p := pt.p
			p.BatchSize = b
			p.NoORT = heavy
			if !given["spinning"] {
				p.Spinning = c.Session.Spinning
			}
			if given["threads"] && p.Threads == 0 {
				// ORT reads 0 as "one per physical core": say which number that is.
				p.Threads, p.ThreadsResolved = m.PhysicalCores, true
			}
			if given["inter_op_threads"] && p.InterOpThreads == 0 {
				p.InterOpThreads = m.PhysicalCores
			}
			def.Defaults(&p)
			parts := append(slices.Clone(pt.parts), "batch="+strconv.Itoa(b))
			cell := Cell{
				Name:     def.Name + "/" + strings.Join(parts, "/"),
				Strategy: def.Name,
				Params:   p,
			}
			if err := def.Validate(p); err != nil {
				bad(key, "%s: %v", cell.Name, err)
				continue
			}
			if heavy && (given["threads"] || given["spinning"]) {
				bad(key, "%s: threads and spinning are ONNX Runtime settings; the heavy task has none", cell.Name)
				continue
			}
			cell.Description = def.Describe(p)
			if want := p.CoresWanted(); m.LogicalCores > 0 && want > m.LogicalCores {
				cell.Warnings = append(cell.Warnings, fmt.Sprintf("oversubscribed: %d threads wanted on %d logical cores", want, m.LogicalCores))
			}
			cells = append(cells, cell)
		}
	}
	return cells, errs
}
