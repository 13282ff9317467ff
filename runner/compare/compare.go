// Package compare sets two runs of the same experiment side by side, cell by
// cell, and says which differences are real: throughput and p99 latency are
// compared over the undisturbed repetitions with a Mann-Whitney U test
// (golang.org/x/perf/benchmath.AssumeNothing, alpha 0.05), the test benchstat
// uses. A difference that is not significant prints as "~", as in benchstat.
// Throughput's change also gets an interval (the Hodges–Lehmann ratio
// new ÷ old, stats.RatioShift), widened when either side was unstable, and
// the tests' p-values are Holm-corrected across the cells: the regression
// gate (Regressions) decides on those.
//
// Note: comparing the cells' medians alone was rejected: two medians of five
// noisy repetitions differ every time, and a CI gate built on them flaps.
package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
)

// Alpha is the significance level of every test.
const Alpha = 0.05

// Verdicts of a cell.
const (
	NoChange      = "no change"
	Faster        = "faster"
	Slower        = "slower"
	NotComparable = "not comparable"
	// CannotJudge: both sides were measured, but too few undisturbed
	// repetitions for an interval; CellChange.Why says which side.
	CannotJudge = "cannot judge"
)

// Report is the comparison of two runs.
type Report struct {
	Experiment string       `json:"experiment"`
	Old        RunInfo      `json:"old"`
	New        RunInfo      `json:"new"`
	Cells      []CellChange `json:"cells"`
	// Warnings say how the two runs differ besides the change under test
	// (config, repetitions, machine, ONNX Runtime, ortbench): a difference
	// may come from there.
	Warnings []string `json:"warnings,omitempty"`
	OnlyOld  []string `json:"only_in_old,omitempty"`
	OnlyNew  []string `json:"only_in_new,omitempty"`
	Alpha    float64  `json:"alpha"`
	// compared are the metrics shown: results.Compared of both runs (the
	// percentiles both list).
	compared []results.Metric
}

// RunInfo names one side of the comparison.
type RunInfo struct {
	StartedAt string `json:"started_at"`
	GitCommit string `json:"git_commit,omitempty"`
	CPUModel  string `json:"cpu_model,omitempty"`
	// StatusCounts are the run's cells per status, as every output counts them.
	StatusCounts map[string]int `json:"status_counts"`
}

// CellChange is one cell present in both runs.
type CellChange struct {
	Name       string `json:"name"`
	OldStatus  string `json:"old_status"`
	NewStatus  string `json:"new_status"`
	Throughput Delta  `json:"throughput_rows_per_second"`
	P99        Delta  `json:"latency_p99_seconds"`
	// Verdict is about throughput: "faster", "slower", "no change", "not
	// comparable" when either side did not finish ok, or "cannot judge".
	Verdict string `json:"verdict"`
	// Why says why a cell cannot be judged.
	Why string `json:"why,omitempty"`
	// Figures are the changes of the other metrics compare shows
	// (results.Compared), by metric name; they carry no verdict.
	Figures map[string]Delta `json:"figures,omitempty"`
	// Ops are the operators whose share of the kernel time changed most,
	// when both runs profiled the cell (profile: true; ops.go).
	Ops []OpChange `json:"op_changes,omitempty"`
}

// Delta is one metric's change between the two sides.
type Delta struct {
	Old float64 `json:"old"` // the cell's own figure (docs/METRICS.md)
	New float64 `json:"new"`
	// OldRange and NewRange are each side's ± (benchstat's), where the
	// figure has an interval.
	OldRange string  `json:"old_range,omitempty"`
	NewRange string  `json:"new_range,omitempty"`
	OldN     int     `json:"old_n"`
	NewN     int     `json:"new_n"`
	Pct      float64 `json:"pct"` // (new/old - 1) × 100
	P        float64 `json:"p"`
	// Significant is P < Alpha, i.e. the two samples differ.
	Significant bool `json:"significant"`
	// HolmSignificant: still significant after Holm's correction across
	// every compared cell, and both sides stable (throughput only).
	HolmSignificant bool `json:"holm_significant,omitempty"`
	// Change is new ÷ old with its 95% interval, widened when either side
	// was unstable (throughput only; docs/METRICS.md).
	Change  *stats.Interval `json:"change,omitempty"`
	Text    string          `json:"delta"` // "+12.34%" or "~", as benchstat prints it
	Warning string          `json:"warning,omitempty"`
}

// Compare matches the cells of two runs of the same experiment by name:
// before is the old run (the baseline), after the new one.
func Compare(before, after *results.Run) (*Report, error) {
	if before == nil || after == nil {
		return nil, errors.New("comparing: missing run")
	}
	if before.Experiment.Name != after.Experiment.Name {
		return nil, fmt.Errorf("comparing different experiments: %s vs %s", before.Experiment.Name, after.Experiment.Name)
	}
	r := &Report{
		Experiment: before.Experiment.Name,
		Old:        info(before),
		New:        info(after),
		Alpha:      Alpha,
		Warnings:   append(differences(before, after), profileDifference(before, after)...),
		compared:   shared(before, after),
	}
	// Cells match by identity (workload, strategy, every parameter), not
	// by name: names leave out settings that were not given.
	newByName := make(map[string]*results.Cell, len(after.Cells))
	for i := range after.Cells {
		newByName[after.Cells[i].Key()] = &after.Cells[i]
	}
	limit := before.Settings.UnstableSpread
	if limit <= 0 {
		limit = 0.25 // the config's default (runner/config)
	}
	seen := make(map[string]bool)
	for i := range before.Cells {
		o := &before.Cells[i]
		seen[o.Key()] = true
		n, ok := newByName[o.Key()]
		if !ok {
			r.OnlyOld = append(r.OnlyOld, o.Name)
			continue
		}
		cc := compareCell(o, n, limit)
		cc.Figures = figureDeltas(r.compared, o, n)
		cc.Ops = opChanges(o, n)
		r.Cells = append(r.Cells, cc)
	}
	r.decide()
	for i := range after.Cells {
		if !seen[after.Cells[i].Key()] {
			r.OnlyNew = append(r.OnlyNew, after.Cells[i].Name)
		}
	}
	return r, nil
}

func info(run *results.Run) RunInfo {
	ri := RunInfo{GitCommit: run.Environment.GitCommit, CPUModel: run.Environment.CPUModel, StatusCounts: run.CountStatuses()}
	if !run.StartedAt.IsZero() {
		ri.StartedAt = run.StartedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return ri
}

func compareCell(o, n *results.Cell, limit float64) CellChange {
	cc := CellChange{Name: o.Name, OldStatus: o.Status, NewStatus: n.Status, Verdict: NotComparable}
	if !results.Measured(o.Status) || !results.Measured(n.Status) {
		return cc
	}
	// The tests run on per-repetition samples; the values shown are the
	// cells' own figures, as every other output shows them (median rows/s;
	// p99 of the merged histogram — docs/METRICS.md).
	ot, nt := samples(o, throughput), samples(n, throughput)
	cc.Throughput = delta(ot, nt, o.RowsPerSecond, n.RowsPerSecond)
	cc.Throughput.OldRange, cc.Throughput.NewRange = o.Throughput.PctRange(), n.Throughput.PctRange()
	cc.P99 = delta(samples(o, p99), samples(n, p99), o.Latency.P99, n.Latency.P99)
	widen := max(stats.WidenFactor(stats.Dispersion(ot), limit), stats.WidenFactor(stats.Dispersion(nt), limit))
	ch := stats.RatioShift(ot, nt).Widen(widen)
	cc.Throughput.Change = &ch
	if !ch.Known() {
		cc.Verdict = CannotJudge
		cc.Why = fmt.Sprintf("%d undisturbed repetitions old, %d new: too few for an interval (about 4 on each side)", len(ot), len(nt))
	}
	return cc
}

// decide sets each judged cell's verdict once every cell's test is known:
// Holm's correction runs across them all. A change is real when its
// interval excludes 1, or — for a cell stable on both sides — its corrected
// test is significant. An unstable side breaks the test's premise (one
// distribution per side, as when two runs met different machine loads), so
// there only the widened interval decides.
func (r *Report) decide() {
	var ps []float64
	var judged []*CellChange
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Verdict == NotComparable && c.Throughput.Change != nil {
			judged = append(judged, c)
			ps = append(ps, c.Throughput.P)
		}
	}
	for i, sig := range stats.Holm(ps, Alpha) {
		c := judged[i]
		ch := *c.Throughput.Change
		sig = sig && ch.Widened <= 1
		c.Throughput.HolmSignificant = sig
		switch {
		case ch.Below(1) || (sig && c.Throughput.Pct < 0):
			c.Verdict = Slower
		case ch.Above(1) || (sig && c.Throughput.Pct > 0):
			c.Verdict = Faster
		default:
			c.Verdict = NoChange
		}
	}
}

// differences lists how two runs differ besides what is being compared.
func differences(a, b *results.Run) []string {
	var out []string
	diff := func(what, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("different %s: %s vs %s", what, orNone(x), orNone(y)))
		}
	}
	diff("resolved config (config_sha256)", short(a.Experiment.ConfigSHA256), short(b.Experiment.ConfigSHA256))
	diff("repetitions", fmt.Sprint(a.Settings.Repetitions), fmt.Sprint(b.Settings.Repetitions))
	diff("schedule", a.Schedule.Kind, b.Schedule.Kind)
	ea, eb := a.Environment, b.Environment
	diff("machine", fmt.Sprintf("%s, %s, host %s", ea.CPUModel, ea.CoreCount(), ea.Hostname), fmt.Sprintf("%s, %s, host %s", eb.CPUModel, eb.CoreCount(), eb.Hostname))
	diff("ONNX Runtime", ea.OnnxruntimeVersion+" "+ea.OnnxruntimeLibrary, eb.OnnxruntimeVersion+" "+eb.OnnxruntimeLibrary)
	diff("ortbench commit", ea.GitCommit, eb.GitCommit)
	diff("percentiles", a.PercentileNames(), b.PercentileNames())
	return out
}

// shared are the metrics compare shows of both runs, in after's order: a
// percentile only one run lists is left out.
func shared(before, after *results.Run) []results.Metric {
	old := results.Compared(before)
	return slices.DeleteFunc(results.Compared(after), func(m results.Metric) bool {
		return !slices.ContainsFunc(old, func(o results.Metric) bool { return o.Name == m.Name })
	})
}

func short(sha string) string { return sha[:min(len(sha), 12)] }

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// The metrics whose changes have their own fields (the verdict's).
const (
	throughputMetric = "rows_per_second"
	p99Metric        = "latency_p99_seconds"
)

// figureDeltas are the changes of the compared metrics other than
// throughput and p99, tested like them (nil when either side was not
// measured, or the list compares nothing else).
func figureDeltas(compared []results.Metric, o, n *results.Cell) map[string]Delta {
	if !results.Measured(o.Status) || !results.Measured(n.Status) {
		return nil
	}
	var out map[string]Delta
	for _, m := range compared {
		if m.Name == throughputMetric || m.Name == p99Metric {
			continue
		}
		if out == nil {
			out = map[string]Delta{}
		}
		d := delta(readings(m, o), readings(m, n), m.Of(o), m.Of(n))
		if m.Compare.Range != nil {
			d.OldRange, d.NewRange = m.Compare.Range(o), m.Compare.Range(n)
		}
		out[m.Name] = d
	}
	return out
}

// readings are a cell's positive readings of m; without any (an older
// file has no per-repetition p90 or p99.9), its own figure as a single
// sample, which can never be significant — as samples does.
func readings(m results.Metric, c *results.Cell) []float64 {
	xs := positive(m.Readings(c))
	if len(xs) == 0 && m.Of(c) > 0 {
		xs = []float64{m.Of(c)}
	}
	return xs
}

func positive(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if x > 0 {
			out = append(out, x)
		}
	}
	return out
}

// deltaOf is the change of a compared metric.
func (c *CellChange) deltaOf(m results.Metric) Delta {
	switch m.Name {
	case throughputMetric:
		return c.Throughput
	case p99Metric:
		return c.P99
	}
	return c.Figures[m.Name]
}

func throughput(r results.Repetition) float64 { return r.RowsPerSecond }
func p99(r results.Repetition) float64        { return r.P99Seconds }

// samples are a cell's per-repetition values, the disturbed ones left out
// as the cell's figures leave them out; a cell without repetitions offers
// its summary as a single sample (which can never be significant).
func samples(c *results.Cell, get func(results.Repetition) float64) []float64 {
	xs := results.Undisturbed(c, get)
	if len(xs) == 0 {
		v := get(results.Repetition{RowsPerSecond: c.RowsPerSecond, P99Seconds: c.Latency.P99})
		if v > 0 {
			xs = []float64{v}
		}
	}
	return xs
}

// delta tests before against after (Mann-Whitney U on the samples) and
// states the change between the two cells' figures old and new.
func delta(before, after []float64, old, new float64) Delta {
	d := Delta{OldN: len(before), NewN: len(after), P: 1, Text: "~"}
	if len(before) == 0 || len(after) == 0 {
		d.Text = "?"
		d.Warning = "no measurements"
		return d
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = Alpha
	s1 := benchmath.NewSample(append([]float64(nil), before...), &th)
	s2 := benchmath.NewSample(append([]float64(nil), after...), &th)
	d.Old, d.New = old, new
	cmp := benchmath.AssumeNothing.Compare(s1, s2)
	d.P = cmp.P
	d.Significant = cmp.P < cmp.Alpha
	if d.Old != 0 {
		d.Pct = (d.New/d.Old - 1) * 100
	}
	d.Text = cmp.FormatDelta(d.Old, d.New)
	var ws []string
	for _, w := range cmp.Warnings {
		ws = append(ws, w.Error())
	}
	d.Warning = strings.Join(ws, "; ")
	return d
}

// FailOnRegression reports whether any cell regressed by more than pct
// percent (Regressions).
func (r *Report) FailOnRegression(pct float64) bool {
	return len(r.Regressions(pct)) > 0
}

// Regressions lists the cells whose throughput dropped by more than pct
// percent — the whole interval of the change lies below −pct, or the
// Holm-corrected test is significant and the drop exceeds pct — and the
// cells that were ok before and failed now (a cell that stops giving the
// right answers is the worst regression).
func (r *Report) Regressions(pct float64) []string {
	var names []string
	for _, c := range r.Cells {
		switch {
		case c.Verdict == Slower && (c.Throughput.Change.Below(1-pct/100) || (c.Throughput.HolmSignificant && -c.Throughput.Pct > pct)):
			names = append(names, c.Name)
		case results.Measured(c.OldStatus) && c.NewStatus == results.StatusFailed:
			names = append(names, c.Name+" (now failed)")
		}
	}
	return names
}

// Unjudged lists the cells the gate could not judge, each with why.
func (r *Report) Unjudged() []string {
	var out []string
	for _, c := range r.Cells {
		if c.Verdict == CannotJudge {
			out = append(out, c.Name+": "+c.Why)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a benchstat-like table with footnotes for
// warnings (too few repetitions to detect a difference, …).
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "experiment: %s\n", r.Experiment)
	fmt.Fprintf(w, "old: %s\nnew: %s\n\n", side(r.Old), side(r.New))
	notes := map[string]int{}
	var order []string
	mark := func(warning string) string {
		if warning == "" {
			return ""
		}
		n, ok := notes[warning]
		if !ok {
			n = len(notes) + 1
			notes[warning] = n
			order = append(order, warning)
		}
		return " " + superscript(n)
	}
	if err := r.writeCells(w, mark); err != nil {
		return err
	}
	if err := r.writeOps(w); err != nil {
		return err
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	for _, n := range r.OnlyOld {
		fmt.Fprintf(w, "only in old: %s\n", n)
	}
	for _, n := range r.OnlyNew {
		fmt.Fprintf(w, "only in new: %s\n", n)
	}
	for _, wn := range order {
		fmt.Fprintf(w, "%s %s\n", superscript(notes[wn]), wn)
	}
	fmt.Fprintf(w, "significance: Mann-Whitney U test over the undisturbed repetitions, alpha %.2f, Holm-corrected across cells for the verdict; ~ means no significant difference; [lo, hi]: the change's 95%% interval, widened ×f when either side was unstable\n", r.Alpha)
	return nil
}

// verdictText is the verdict with the change's interval, or why the cell
// cannot be judged.
func verdictText(c CellChange) string {
	ch := c.Throughput.Change
	switch {
	case c.Verdict == CannotJudge:
		return c.Verdict + ": " + c.Why
	case ch == nil || !ch.Known():
		return c.Verdict
	}
	s := fmt.Sprintf("%s [%+.1f%%, %+.1f%%]", c.Verdict, 100*(ch.Lo-1), 100*(ch.Hi-1))
	if ch.Widened > 1 {
		s += fmt.Sprintf(" widened ×%.1f", ch.Widened)
	}
	return s
}

// writeCells is the table: per cell, each compared metric's old and new
// figure, the change (and the test's p and n where the view asks), then
// the verdict.
func (r *Report) writeCells(w io.Writer, mark func(warning string) string) error {
	compared := r.compared
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fields := 0
	fmt.Fprint(tw, "cell\t")
	for _, m := range compared {
		fmt.Fprintf(tw, "old %s\tnew %s\tvs old\t", m.Compare.Label, m.Compare.Label)
		fields += 3
		if m.Compare.P {
			fmt.Fprint(tw, "p\t")
			fields++
		}
	}
	fmt.Fprintln(tw, "verdict\t")
	for i := range r.Cells {
		c := &r.Cells[i]
		fmt.Fprint(tw, c.Name, "\t")
		if c.Verdict == NotComparable {
			fmt.Fprint(tw, "-\t-\t", strings.Repeat("\t", fields-2))
			fmt.Fprintf(tw, "%s (old %s, new %s)\t\n", c.Verdict, c.OldStatus, c.NewStatus)
			continue
		}
		for _, m := range compared {
			d, v := c.deltaOf(m), m.Compare
			fmt.Fprintf(tw, "%s\t%s\t%s%s\t", withRange(v.Text(d.Old), d.OldRange), withRange(v.Text(d.New), d.NewRange), d.Text, mark(d.Warning))
			if v.P {
				fmt.Fprint(tw, pval(d), "\t")
			}
		}
		fmt.Fprintf(tw, "%s\t\n", verdictText(*c))
	}
	return tw.Flush()
}

func withRange(v, r string) string {
	if r == "" {
		return v
	}
	return v + " " + r
}

func pval(d Delta) string {
	return fmt.Sprintf("p=%.3f n=%d+%d", d.P, d.OldN, d.NewN)
}

func side(ri RunInfo) string {
	parts := []string{ri.StartedAt}
	if ri.GitCommit != "" {
		parts = append(parts, "commit "+ri.GitCommit)
	}
	if ri.CPUModel != "" {
		parts = append(parts, ri.CPUModel)
	}
	if ri.StatusCounts != nil {
		parts = append(parts, "cells: "+results.CountsLine(ri.StatusCounts))
	}
	if s := strings.Join(nonEmpty(parts), ", "); s != "" {
		return s
	}
	return "-"
}

func nonEmpty(xs []string) []string {
	out := xs[:0]
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func superscript(n int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var b strings.Builder
	for _, d := range fmt.Sprint(n) {
		b.WriteString(string([]rune(digits)[d-'0']))
	}
	return b.String()
}
