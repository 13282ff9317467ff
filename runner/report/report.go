// Package report renders a run as one self-contained HTML page: the
// environment, the summary table and charts (speedup, throughput vs p99
// latency, the roofline when the run measured a ceiling, memory, CPU, and
// a timeline), as inline SVG drawn here in Go.
// The page loads nothing: no CDN, no web fonts, no script, so it opens
// offline and can be mailed or attached to a CI run as a single file.
//
// Note: a JavaScript charting library was rejected: it would have to be
// inlined (hundreds of KB) to work offline, and the charts here are static.
// Native SVG <title> elements give hover tooltips without any script.
package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// Format is the "html" format (report.html), which main adds to the
// formats registry it passes in.
func Format() results.Encoder {
	return results.Encoder{File: "report.html", Encode: HTML}
}

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Funcs(template.FuncMap{"breakable": breakable}).Parse(pageSource))

// breakable lets a long cell name wrap after its slashes.
func breakable(s string) template.HTML {
	return template.HTML(strings.ReplaceAll(esc(s), "/", "/<wbr>"))
}

// HTML writes the report for run to w.
func HTML(run *results.Run, w io.Writer) error {
	if run == nil {
		return fmt.Errorf("report: no run")
	}
	col := strategyColors(run)
	timeline, timelineCell := timelineChart(run)
	d := data{
		Run:          run,
		Title:        "ortbench — " + run.Experiment.Name,
		Env:          envRows(run),
		Settings:     settingsRows(run),
		Speedup:      speedupChart(run, col),
		Memory:       memoryChart(run),
		MemoryNote:   memoryNote(run),
		CPU:          cpuChart(run),
		Timeline:     timeline,
		TimelineCell: timelineCell,
		Serving:      servingCharts(run, col), // serving.go
		Generated:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
	d.Header = header(run)
	d.Colspan = len(d.Header) + 3 // cell, strategy, …, status
	d.Rows, d.AllCells = tableRows(run, col)
	d.Pareto, d.ParetoKey = paretoChart(run, col)
	d.Roofline, d.RooflineKey = rooflineChart(run, col) // roofline.go
	d.OpTables = opTables(run)                          // opprofile.go
	d.Counts, d.Best = counts(run)
	for _, v := range run.ServingVerdicts {
		d.Verdicts = append(d.Verdicts, v.Line())
	}
	d.Verdicts = append(d.Verdicts, results.VerdictLines(run.Verdicts)...)
	d.MachineRows, d.Machines, d.Priced = machineRows(run)
	if !run.StartedAt.IsZero() {
		d.Started = run.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		if !run.FinishedAt.IsZero() {
			d.Duration = run.FinishedAt.Sub(run.StartedAt).Round(time.Second).String()
		}
	}
	return page.Execute(w, d)
}

type data struct {
	Run                                    *results.Run
	Title, Started, Duration, Generated    string
	Env, Settings                          []kv
	Header                                 []string // the summary table's metric columns
	Colspan                                int      // the summary table's columns
	Rows                                   []row
	Counts                                 string
	Best                                   string
	Verdicts                               []string
	Speedup, Pareto, Memory, CPU, Timeline template.HTML
	TimelineCell                           string
	MemoryNote                             string // why in-process cells' memory is one process's
	Serving                                template.HTML
	ParetoKey                              []string
	// Roofline is empty without a ceiling and a cell with GFLOP/s.
	Roofline    template.HTML
	RooflineKey []string
	// OpTables are the profiled cells' operators (profile: true).
	OpTables []opCell
	AllCells []string // warnings every cell carries
	// MachineRows compare the machines of a merged run (none: one machine).
	MachineRows []machineRow
	Machines    []string
	Priced      bool
}

type kv struct{ K, V string }

func envRows(run *results.Run) []kv {
	e := run.Environment
	cores := fmt.Sprintf("%d logical", e.LogicalCores)
	if e.PhysicalCores > 0 {
		cores = fmt.Sprintf("%d physical, %d logical", e.PhysicalCores, e.LogicalCores)
	}
	ort := e.OnnxruntimeVersion
	if e.OnnxruntimeLibrary != "" {
		ort += " (" + e.OnnxruntimeLibrary + ")"
	}
	return nonEmpty([]kv{
		{"CPU", e.CPUModel},
		{"cores", cores},
		{"caches", e.Caches},
		{"memory", results.Bytes(e.MemoryBytes)},
		{"OS", strings.TrimSpace(e.OS + " " + e.Arch)},
		{"kernel", e.Kernel},
		{"Go", fmt.Sprintf("%s, GOMAXPROCS %d", e.GoVersion, e.GOMAXPROCS)},
		{"ONNX Runtime", ort},
		{"commit", e.GitCommit},
		{"host", e.Hostname},
	})
}

func settingsRows(run *results.Run) []kv {
	s := run.Settings
	sha := run.Experiment.ConfigSHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return nonEmpty([]kv{
		{"config", strings.TrimSpace(run.Experiment.ConfigPath + " " + sha)},
		{"repetitions", fmt.Sprintf("%d (min %gs each), %d warm-up batches", s.Repetitions, s.MinDurationSeconds, s.WarmupBatches)},
		{"ORT spinning default", fmt.Sprint(s.Spinning)},
		{"graph optimisation", s.GraphOptimization},
		{"memory arena / pattern", fmt.Sprintf("%v / %v", s.MemArena, s.MemPattern)},
		{"float tolerance", fmt.Sprint(s.Tolerance)},
		{"unstable if spread >", fmt.Sprintf("%.0f%%", 100*s.UnstableSpread)},
		{"latency percentiles", run.PercentileNames()},
		{"schedule", scheduleText(run.Schedule)},
		{"noise", noiseText(run.Noise)},
		{"reference cell", s.ReferenceCell},
	})
}

func scheduleText(s results.ScheduleInfo) string {
	if s.Kind == "" {
		return ""
	}
	t := s.Kind
	if s.Kind == "interleaved" {
		t += fmt.Sprintf(", seed %d", s.Seed)
	}
	t += fmt.Sprintf(", %d rounds", s.Rounds)
	if s.TargetInterval > 0 {
		t += fmt.Sprintf(" (until ±%.0f%%, at most %gs)", 100*s.TargetInterval, s.MaxDurationSeconds)
	}
	if s.Reason != "" {
		t += " — " + s.Reason
	}
	return t
}

func noiseText(n results.RunNoise) string {
	if n.Repetitions == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d repetitions disturbed (others > %.2g cores; median %.2f, max %.2f; %.2f before the run)",
		n.Disturbed, n.Repetitions, n.Threshold, n.MedianOtherCores, n.MaxOtherCores, n.BeforeCores)
}

func nonEmpty(kvs []kv) []kv {
	out := kvs[:0]
	for _, p := range kvs {
		if v := strings.TrimSpace(p.V); v != "" && v != "-" {
			out = append(out, p)
		}
	}
	return out
}

// row is one line of the summary table, formatted.
type row struct {
	Name, Description, Strategy, Color, Params string
	Status, StatusClass                        string
	// Figures are the metric list's report columns shown for measured
	// cells ("–" for the others), Facts those shown for every cell.
	Figures, Facts []figure
	Error          string
	Warnings       []string
}

// figure is one formatted value of the summary table.
type figure struct {
	Text, Note, Class string
	HasNote, HasClass bool
}

// header is the summary table's metric columns (results.ReportColumns):
// the figures' headers, then the facts'.
func header(run *results.Run) []string {
	var figures, facts []string
	for _, col := range results.ReportColumns(run) {
		if col.Always {
			facts = append(facts, col.Header)
		} else {
			figures = append(figures, col.Header)
		}
	}
	return append(figures, facts...)
}

// tableRows formats the cells, and returns apart the warnings all cells share.
func tableRows(run *results.Run, col colors) ([]row, []string) {
	var rows []row
	cols := results.ReportColumns(run)
	for i := range run.Cells {
		c := &run.Cells[i]
		r := row{Name: c.Name, Description: c.Description, Strategy: c.Strategy, Color: col[c.Strategy],
			Params: params(c), Status: c.Status, StatusClass: c.Status, Error: c.Error, Warnings: slices.Clone(c.Warnings)}
		if w := c.Throughput.Warning; w != "" && !mentions(r.Warnings, w) {
			r.Warnings = append(r.Warnings, w)
		}
		if c.Verification.FirstError != "" && !c.Verification.Passed {
			r.Warnings = append(r.Warnings, "verification: "+c.Verification.FirstError)
		}
		for _, k := range cols {
			f := figure{Text: "–"}
			if k.Always || results.Measured(c.Status) {
				f = formatted(k, c)
			}
			if k.Always {
				r.Facts = append(r.Facts, f)
			} else {
				r.Figures = append(r.Figures, f)
			}
		}
		rows = append(rows, r)
	}
	return rows, common(rows)
}

func formatted(k results.Column, c *results.Cell) figure {
	f := figure{Text: k.Text(c), HasNote: k.Note != nil, HasClass: k.Class != nil}
	if f.HasNote {
		f.Note = k.Note(c)
	}
	if f.HasClass {
		f.Class = k.Class(c)
	}
	return f
}

// mentions reports whether any warning contains s.
func mentions(ws []string, s string) bool {
	for _, w := range ws {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// common moves the warnings every row carries (too few repetitions for a
// confidence interval, typically) out of the rows into one note under the
// table, so the rows keep only what sets them apart.
func common(rows []row) []string {
	if len(rows) < 2 {
		return nil
	}
	var shared []string
	for _, w := range rows[0].Warnings {
		all := true
		for _, r := range rows[1:] {
			if !slices.Contains(r.Warnings, w) {
				all = false
				break
			}
		}
		if all {
			shared = append(shared, w)
		}
	}
	for i := range rows {
		rows[i].Warnings = slices.DeleteFunc(rows[i].Warnings, func(w string) bool { return slices.Contains(shared, w) })
	}
	return shared
}

// params is the cell's parameter list and derived facts, as "key=value" words.
func params(c *results.Cell) string {
	var parts []string
	for _, p := range append(slices.Clone(c.Params), c.Derived...) {
		parts = append(parts, p.Key+"="+results.FormatValue(p.Value))
	}
	return strings.Join(parts, " ")
}

// counts says how many cells ended how, and which ok cell was fastest
// (for a server run: which served the most QPS, never rows/s).
func counts(run *results.Run) (string, string) {
	s := fmt.Sprintf("%d cells: %s", len(run.Cells), results.CountsLine(run.CountStatuses()))
	if b, ok := servingBest(run); ok {
		return s, b
	}
	var best *results.Cell
	for i := range run.Cells {
		c := &run.Cells[i]
		if results.Measured(c.Status) && (best == nil || c.RowsPerSecond > best.RowsPerSecond) {
			best = c
		}
	}
	b := ""
	if best != nil && best.RowsPerSecond > 0 {
		b = fmt.Sprintf("%s — %s rows/s", best.Name, results.Num(best.RowsPerSecond))
		if best.HasSpeedup() {
			b += fmt.Sprintf(", %s %s", best.SpeedupText(), "the "+best.SpeedupBase+" baseline")
		}
	}
	return s, b
}
