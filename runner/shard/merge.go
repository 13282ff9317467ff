package shard

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// MachineKey is the key Merge sets in a merged cell's Extra when the cells
// came from more than one machine: the label of the machine that measured it.
const MachineKey = "machine"

// Options tune Merge. The zero value merges without a completeness check.
type Options struct {
	// Expected is the plan's cell names in plan order (every cell of the
	// experiment). When set, a cell missing from the shards, or one the plan
	// does not have, is an error, and the merged cells follow this order.
	Expected []string
	// IsSupport reports whether a cell is a support copy: a cell a shard ran
	// only because its own cells need it (the speedup baseline), while
	// another shard owns it. nil: no cell is a support copy.
	IsSupport func(*results.Cell) bool
	// Version returns the ortbench version a run records ("" if none).
	// Shards with two different non-empty versions do not merge. nil: the
	// project's git commit (Environment.GitCommit).
	Version func(*results.Run) string
	// Machine returns the label of the machine a run measured on. nil:
	// MachineLabel.
	Machine func(*results.Run) string
	// Identity names a cell for matching copies and the plan (Expected).
	// nil: the cell's Name.
	Identity func(*results.Cell) string
	// ConfigHash returns the hash shards must agree on. nil: the resolved
	// config's (Experiment.ConfigSHA256).
	ConfigHash func(*results.Run) string
	// PricePerHour maps a machine label to its price per hour (any currency);
	// a machine with a price gets rows per unit of cost.
	PricePerHour map[string]float64
}

// Merged is the result of Merge.
type Merged struct {
	// Run is the combined run: the first shard's experiment, settings and
	// environment, the earliest start and the latest finish, every shard's
	// warnings once, and every cell once per machine.
	Run *results.Run
	// CellMachine[k] is the label of the machine Run.Cells[k] ran on;
	// CellSource[k] is the folder (paths entry) it came from.
	CellMachine []string
	CellSource  []string
	// Machines summarises each machine, in order of first appearance. One
	// entry when every shard ran on the same machine.
	Machines []Machine
	// Compared is true when the same cells ran on several machines (each
	// machine ran the whole experiment): the machine is then a dimension of
	// every cell. False when the machines ran disjoint parts of it.
	Compared bool
}

// Machine is one machine's part of a merged run: what it is and, per
// strategy, its best figures — what a report shows to compare machines.
// It is the results contract's type (results.json "machines").
type Machine = results.MachineSummary

// StrategyFigures is one strategy on one machine: its fastest ok cell.
type StrategyFigures = results.MachineStrategy

// MachineLabel is the default machine label: the host name, or the CPU
// model and core count when the run recorded no host name.
func MachineLabel(r *results.Run) string {
	if h := r.Environment.Hostname; h != "" {
		return h
	}
	if r.Environment.CPUModel != "" {
		return fmt.Sprintf("%s ×%d", r.Environment.CPUModel, r.Environment.LogicalCores)
	}
	return "unknown machine"
}

// Merge combines shards' runs (paths[k] is the folder runs[k] was read from,
// used in messages) into one run. Errors are one line, naming the cells and
// folders concerned.
//
// The shards must come from one experiment: the same name, config_sha256,
// schema and (where both record one) ortbench version.
//
// A cell is identified by its identity (Options.Identity: its name unless
// the caller says otherwise) and its machine. Support copies (see
// Options.IsSupport) are dropped when a copy that is not one exists; a cell
// with only support copies is an error (the shard that owns it is missing).
// Two remaining copies of a cell from the same machine are an error naming
// both folders. Copies from different machines are the machine dimension:
// then every machine must have run every cell (Merged.Compared). Otherwise
// the machines ran disjoint parts, and together they must cover the plan.
func Merge(runs []*results.Run, paths []string, opts Options) (*Merged, error) {
	if err := checkShards(runs, paths); err != nil {
		return nil, err
	}
	if err := sameExperiment(runs, paths, opts.Version, opts.ConfigHash); err != nil {
		return nil, err
	}
	m := newMerger(runs, paths, opts)
	m.collect()
	problems := m.keep()
	order, missing := m.order()
	problems = append(problems, missing...)
	if m.onSeveral {
		problems = append(problems, m.lacking(order)...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("merge: %s", strings.Join(problems, "; "))
	}
	return m.assemble(order), nil
}

// checkShards checks Merge's arguments: one folder per run, no nil run.
func checkShards(runs []*results.Run, paths []string) error {
	if len(runs) == 0 {
		return errors.New("merge: no shards given")
	}
	if len(paths) != len(runs) {
		return fmt.Errorf("merge: %d runs but %d folders", len(runs), len(paths))
	}
	for k, r := range runs {
		if r == nil {
			return fmt.Errorf("merge: %s: no run", paths[k])
		}
	}
	return nil
}

// copyOf is one copy of a cell: runs[run].Cells[cell], measured on machine.
type copyOf struct {
	run, cell int
	machine   string
	support   bool
}

// merger is one Merge call's state, built up phase by phase.
type merger struct {
	runs      []*results.Run
	paths     []string
	opts      Options                      // with Machine, Identity and IsSupport filled
	names     []string                     // cell identities, in order of first appearance
	copies    map[string][]copyOf          // every copy of every cell, by identity
	machines  []string                     // machine labels, in order of first appearance
	kept      map[string]map[string]copyOf // identity → machine → the copy kept
	onSeveral bool                         // some cell ran on several machines
}

func newMerger(runs []*results.Run, paths []string, opts Options) *merger {
	if opts.Machine == nil {
		opts.Machine = MachineLabel
	}
	if opts.Identity == nil {
		opts.Identity = func(c *results.Cell) string { return c.Name }
	}
	if opts.IsSupport == nil {
		opts.IsSupport = func(*results.Cell) bool { return false }
	}
	return &merger{runs: runs, paths: paths, opts: opts, copies: map[string][]copyOf{}, kept: map[string]map[string]copyOf{}}
}

// collect lists every copy of every cell and every machine.
func (m *merger) collect() {
	seenMachine := map[string]bool{}
	for k, r := range m.runs {
		mc := m.opts.Machine(r)
		if !seenMachine[mc] {
			seenMachine[mc] = true
			m.machines = append(m.machines, mc)
		}
		for j := range r.Cells {
			c := &r.Cells[j]
			name := m.opts.Identity(c)
			if _, ok := m.copies[name]; !ok {
				m.names = append(m.names, name)
			}
			m.copies[name] = append(m.copies[name], copyOf{run: k, cell: j, machine: mc, support: m.opts.IsSupport(c)})
		}
	}
}

// keep chooses each cell's copy per machine: support copies dropped, two
// own copies from one machine a problem.
func (m *merger) keep() (problems []string) {
	for _, name := range m.names {
		var own []copyOf
		for _, c := range m.copies[name] {
			if !c.support {
				own = append(own, c)
			}
		}
		if len(own) == 0 {
			problems = append(problems, fmt.Sprintf("cell %s has only baseline copies (in %s): the shard that owns it is missing", name, folders(m.paths, m.copies[name], func(c copyOf) int { return c.run })))
			continue
		}
		byMachine := map[string]copyOf{}
		for _, c := range own {
			if prev, dup := byMachine[c.machine]; dup {
				problems = append(problems, fmt.Sprintf("cell %s is in both %s and %s", name, m.paths[prev.run], m.paths[c.run]))
				continue
			}
			byMachine[c.machine] = c
		}
		if len(byMachine) > 1 {
			m.onSeveral = true
		}
		m.kept[name] = byMachine
	}
	return problems
}

// order is the merged cells' order: the plan's (Options.Expected), with
// the cells it misses or lacks as problems, else first appearance.
func (m *merger) order() (order, problems []string) {
	if m.opts.Expected == nil {
		return m.names, nil
	}
	want := map[string]bool{}
	var missing []string
	for _, n := range m.opts.Expected {
		want[n] = true
		if _, ok := m.copies[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s missing from every shard: %s", plural(len(missing), "cell"), list(missing)))
	}
	var extra []string
	for _, n := range m.names {
		if !want[n] {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s not in the plan: %s", plural(len(extra), "cell"), list(extra)))
	}
	return m.opts.Expected, problems
}

// lacking: when the machine is a dimension, every machine must have every
// cell; each machine that lacks some is a problem.
func (m *merger) lacking(order []string) (problems []string) {
	for _, mc := range m.machines {
		var lacks []string
		for _, n := range order {
			if byMachine, ok := m.kept[n]; ok {
				if _, ok := byMachine[mc]; !ok {
					lacks = append(lacks, n)
				}
			}
		}
		if len(lacks) > 0 {
			problems = append(problems, fmt.Sprintf("machine %s lacks %s that other machines ran: %s (when a cell runs on several machines, every machine must run every cell)", mc, plural(len(lacks), "cell"), list(lacks)))
		}
	}
	return problems
}

// assemble builds the merged run from the kept copies in order.
func (m *merger) assemble(order []string) *Merged {
	out := m.combinedRun()
	res := &Merged{Run: out, Compared: m.onSeveral}
	several := len(m.machines) > 1
	add := func(c copyOf) {
		cell := m.runs[c.run].Cells[c.cell]
		if several {
			extra := make(map[string]any, len(cell.Extra)+1)
			for k, v := range cell.Extra {
				extra[k] = v
			}
			extra[MachineKey] = c.machine
			cell.Extra = extra
		}
		out.Cells = append(out.Cells, cell)
		res.CellMachine = append(res.CellMachine, c.machine)
		res.CellSource = append(res.CellSource, m.paths[c.run])
	}
	// Machine-major: each machine's cells in plan order (for disjoint
	// shards this is simply plan order).
	if m.onSeveral {
		for _, mc := range m.machines {
			for _, n := range order {
				if c, ok := m.kept[n][mc]; ok {
					add(c)
				}
			}
		}
	} else {
		for _, n := range order {
			for _, c := range m.kept[n] { // exactly one
				add(c)
			}
		}
	}
	res.Machines = m.summarise(res)
	out.StatusCounts = out.CountStatuses()
	out.RunID = fmt.Sprintf("%s-%s-merged", out.Experiment.Name, out.StartedAt.UTC().Format("20060102T150405Z"))
	if several {
		out.Machines = res.Machines
	}
	return res
}

// combinedRun is the merged run without its cells: the first shard's
// experiment, settings and environment, the earliest start and the latest
// finish, every shard's warnings once.
func (m *merger) combinedRun() *results.Run {
	first := m.runs[0]
	out := &results.Run{
		Schema:      first.Schema,
		Experiment:  first.Experiment,
		Environment: first.Environment,
		Settings:    first.Settings,
		StartedAt:   first.StartedAt,
		FinishedAt:  first.FinishedAt,
		ParamKeys:   first.ParamKeys,
	}
	seenWarn := map[string]bool{}
	for _, r := range m.runs {
		if !r.StartedAt.IsZero() && (out.StartedAt.IsZero() || r.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		for _, w := range r.Warnings {
			if !seenWarn[w] {
				seenWarn[w] = true
				out.Warnings = append(out.Warnings, w)
			}
		}
	}
	if machines := m.machines; len(machines) > 1 {
		w := fmt.Sprintf("merged from %d machines (%s); the environment shown is %s's, each cell's machine is in its extra.%s",
			len(machines), strings.Join(machines, ", "), machines[0], MachineKey)
		out.Warnings = append(out.Warnings, w)
	}
	return out
}

// sameExperiment checks that every run is of the first run's experiment.
func sameExperiment(runs []*results.Run, paths []string, version, hash func(*results.Run) string) error {
	if version == nil {
		version = func(r *results.Run) string { return r.Environment.GitCommit }
	}
	if hash == nil {
		hash = func(r *results.Run) string { return r.Experiment.ConfigSHA256 }
	}
	a := runs[0]
	for k, b := range runs[1:] {
		pa, pb := paths[0], paths[k+1]
		switch {
		case a.Schema != b.Schema:
			return fmt.Errorf("merge: %s and %s have different schemas (%s vs %s)", pa, pb, a.Schema, b.Schema)
		case a.Experiment.Name != b.Experiment.Name:
			return fmt.Errorf("merge: %s and %s are different experiments (%s vs %s)", pa, pb, a.Experiment.Name, b.Experiment.Name)
		case hash(a) != hash(b):
			return fmt.Errorf("merge: %s and %s ran different configs (config_sha256 %s vs %s)", pa, pb, short(hash(a)), short(hash(b)))
		}
		if va, vb := version(a), version(b); va != "" && vb != "" && va != vb {
			return fmt.Errorf("merge: %s and %s ran different ortbench versions (%s vs %s)", pa, pb, va, vb)
		}
	}
	return nil
}

// summarise builds each machine's figures from the merged cells.
func (mg *merger) summarise(m *Merged) []Machine {
	runs, paths, label, machines, prices := mg.runs, mg.paths, mg.opts.Machine, mg.machines, mg.opts.PricePerHour
	out := make([]Machine, len(machines))
	index := map[string]int{}
	for k, l := range machines {
		index[l] = k
		out[k].Label = l
		out[k].PricePerHour = prices[l]
	}
	for k, r := range runs {
		mc := &out[index[label(r)]]
		e := r.Environment
		if mc.CPUModel == "" {
			mc.CPUModel, mc.LogicalCores, mc.PhysicalCores, mc.MemoryBytes = e.CPUModel, e.LogicalCores, e.PhysicalCores, e.MemoryBytes
		}
		if e.Hostname != "" && !contains(mc.Hostnames, e.Hostname) {
			mc.Hostnames = append(mc.Hostnames, e.Hostname)
		}
		mc.Sources = append(mc.Sources, paths[k])
	}
	best := make([]map[string]*StrategyFigures, len(machines))
	for k := range best {
		best[k] = map[string]*StrategyFigures{}
	}
	for j := range m.Run.Cells {
		c := &m.Run.Cells[j]
		k := index[m.CellMachine[j]]
		out[k].Cells++
		if c.Status != results.StatusOK {
			continue
		}
		f := best[k][c.Strategy]
		if f == nil {
			f = &StrategyFigures{Strategy: c.Strategy}
			best[k][c.Strategy] = f
		}
		f.Cells++
		if f.Best == "" || c.RowsPerSecond > f.RowsPerSecond {
			f.Best, f.RowsPerSecond, f.P99Seconds = c.Name, c.RowsPerSecond, c.Latency.P99
		}
	}
	for k := range out {
		for _, f := range best[k] {
			if cores := out[k].LogicalCores; cores > 0 {
				f.RowsPerSecondPerCore = f.RowsPerSecond / float64(cores)
			}
			if p := out[k].PricePerHour; p > 0 {
				f.RowsPerCost = f.RowsPerSecond * 3600 / p
			}
			out[k].Strategies = append(out[k].Strategies, *f)
		}
		sort.Slice(out[k].Strategies, func(a, b int) bool { return out[k].Strategies[a].Strategy < out[k].Strategies[b].Strategy })
	}
	return out
}

// Strategies returns every strategy any machine ran, sorted: the rows of a
// machine comparison.
func (m *Merged) Strategies() []string {
	seen := map[string]bool{}
	var out []string
	for _, mc := range m.Machines {
		for _, f := range mc.Strategies {
			if !seen[f.Strategy] {
				seen[f.Strategy] = true
				out = append(out, f.Strategy)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Figures returns machine label's figures for strategy (ok false if that
// machine has no ok cell of it).
func (m *Merged) Figures(label, strategy string) (StrategyFigures, bool) {
	for _, mc := range m.Machines {
		if mc.Label != label {
			continue
		}
		for _, f := range mc.Strategies {
			if f.Strategy == strategy {
				return f, true
			}
		}
	}
	return StrategyFigures{}, false
}

// Span is the merged run's wall-clock span, first start to last finish.
func (m *Merged) Span() time.Duration { return m.Run.FinishedAt.Sub(m.Run.StartedAt) }

func folders[T any](paths []string, xs []T, run func(T) int) string {
	var out []string
	for _, x := range xs {
		if p := paths[run(x)]; !contains(out, p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// list names at most 10 items, then says how many more.
func list(xs []string) string {
	const most = 10
	if len(xs) <= most {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:most], ", "), len(xs)-most)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(none)"
	}
	return sha
}
