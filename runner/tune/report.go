package tune

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// Report writes the search as one self-contained HTML file (inline SVG,
// no network): the recommendation per objective, the points tried over
// the steps with the best so far, the Pareto front of throughput against
// p99 (memory as the marker's size), the "why" lines and every point.
func Report(w io.Writer, title string, st *State) error {
	if st.Result == nil {
		return fmt.Errorf("the tune has no result yet (interrupted? resume it with --resume)")
	}
	r := st.Result
	// reportPage itself is never executed, so each report clones it.
	page, err := reportPage.Clone()
	if err != nil {
		return err
	}
	return page.Funcs(template.FuncMap{
		"value":    func(rec Recommendation) string { return valueText(r, rec) },
		"interval": func(rec Recommendation) string { return intervalText(r, rec, " – ") },
	}).Execute(w, map[string]any{
		"Title": title, "R": st.Result, "State": st,
		"Timeline": template.HTML(timelineSVG(st)), "Front": template.HTML(frontSVG(st.Result)),
	})
}

var palette = []string{"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"}

// colour is a strategy's in the charts: its place among the result's
// strategies (strategies of r in order of first appearance).
func colour(r *Result, strategy string) string {
	i := slices.Index(strategiesOf(r), strategy)
	if i < 0 {
		return "#7f7f7f"
	}
	return palette[i%len(palette)]
}

// strategiesOf are the strategies of r's points, in order of first appearance.
func strategiesOf(r *Result) []string {
	var out []string
	for _, p := range r.Points {
		if !slices.Contains(out, p.Point.Strategy) {
			out = append(out, p.Point.Strategy)
		}
	}
	return out
}

const (
	chartW, chartH = 640.0, 300.0
	padL, padB     = 70.0, 40.0
	padT, padR     = 15.0, 15.0
)

// timelineSVG: every measured point at the step it was first measured
// (throughput on the anchor's scale), and the best so far as a line.
func timelineSVG(st *State) string {
	r := st.Result
	if len(r.Points) == 0 {
		return ""
	}
	maxY, steps := 0.0, 1
	for _, p := range r.Points {
		maxY = math.Max(maxY, yOf(r, p))
		steps = max(steps, p.FirstStep+1)
	}
	if maxY == 0 {
		return ""
	}
	x := func(step int) float64 { return padL + (float64(step)+0.5)/float64(steps)*(chartW-padL-padR) }
	y := func(v float64) float64 { return chartH - padB - v/maxY*(chartH-padB-padT) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="points tried over the steps">`, chartW, chartH, chartW, chartH)
	axes(&b, fmt.Sprintf("step (%d in all)", len(st.Steps)), yLabel(r))
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" font-size="10">%s</text>`, padL-4, y(v)+3, results.Num(v))
	}
	best, path := 0.0, ""
	for i := range steps {
		for _, p := range r.Points {
			if p.FirstStep == i && !p.Failed && len(p.Violates) == 0 {
				best = math.Max(best, yOf(r, p))
			}
		}
		if best > 0 {
			path += fmt.Sprintf(" %.1f,%.1f", x(i), y(best))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" font-size="10">%d</text>`, x(i), chartH-padB+14, i)
	}
	if path != "" {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#444" stroke-dasharray="4 3"/>`, path)
	}
	for _, p := range r.Points {
		cx := x(p.FirstStep)
		if p.Failed {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#d62728" text-anchor="middle" font-size="12">✕<title>%s: failed: %s</title></text>`, cx, y(0)-2, template.HTMLEscapeString(p.Point.String()), template.HTMLEscapeString(p.Error))
			continue
		}
		fill := colour(r, p.Point.Strategy)
		if len(p.Violates) > 0 {
			fill = "none"
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="%s"><title>%s: %s rows/s, p99 %s</title></circle>`,
			cx, y(yOf(r, p)), fill, colour(r, p.Point.Strategy), template.HTMLEscapeString(p.Point.String()), results.Num(p.RowsPerSecond), results.Dur(p.P99))
	}
	legend(&b, r)
	b.WriteString(`</svg>`)
	return b.String()
}

// frontSVG: throughput against p99 (log), every point grey, the front in
// colour and joined; the marker's area follows peak RSS.
func frontSVG(r *Result) string {
	var pts []PointFigures
	for _, p := range r.Points {
		if !p.Failed && p.P99 > 0 && yOf(r, p) > 0 {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	lo, hi, maxY := math.Inf(1), 0.0, 0.0
	var maxRSS uint64
	for _, p := range pts {
		lo, hi = math.Min(lo, p.P99), math.Max(hi, p.P99)
		maxY = math.Max(maxY, yOf(r, p))
		maxRSS = max(maxRSS, p.PeakRSS)
	}
	lo, hi = math.Log10(lo)-0.1, math.Log10(hi)+0.1
	x := func(v float64) float64 { return padL + (math.Log10(v)-lo)/(hi-lo)*(chartW-padL-padR) }
	y := func(v float64) float64 { return chartH - padB - v/maxY*(chartH-padB-padT) }
	rad := func(b uint64) float64 {
		if maxRSS == 0 {
			return 5
		}
		return 3 + 6*math.Sqrt(float64(b)/float64(maxRSS))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="throughput against p99">`, chartW, chartH, chartW, chartH)
	axes(&b, "p99 latency (log)", yLabel(r))
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" font-size="10">%s</text>`, padL-4, y(v)+3, results.Num(v))
		lv := math.Pow(10, lo+(hi-lo)*float64(i)/4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" font-size="10">%s</text>`, x(lv), chartH-padB+14, results.Dur(lv))
	}
	onFront := map[string]bool{}
	path := ""
	front := append([]PointFigures(nil), r.Front...)
	for i := len(front) - 1; i >= 0; i-- { // lowest p99 … highest throughput
		onFront[front[i].Point.Key()] = true
	}
	for _, p := range front {
		path = fmt.Sprintf(" %.1f,%.1f", x(p.P99), y(yOf(r, p))) + path
	}
	if len(front) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#444"/>`, path)
	}
	for _, p := range pts {
		fill, stroke := "#ccc", "#999"
		if onFront[p.Point.Key()] {
			fill, stroke = colour(r, p.Point.Strategy), "#222"
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s" fill-opacity="0.8"><title>%s: %s rows/s, p99 %s, peak RSS %s</title></circle>`,
			x(p.P99), y(yOf(r, p)), rad(p.PeakRSS), fill, stroke, template.HTMLEscapeString(p.Point.String()), results.Num(p.RowsPerSecond), results.Dur(p.P99), results.Bytes(p.PeakRSS))
	}
	legend(&b, r)
	b.WriteString(`</svg>`)
	return b.String()
}

// yOf is what the charts plot upwards: rows/s offline, the max QPS within
// the SLO under server load.
func yOf(r *Result, p PointFigures) float64 {
	if r.Server {
		return p.MaxQPS
	}
	return p.RowsPerSecond
}

func yLabel(r *Result) string {
	if r.Server {
		return "max req/s within the SLO"
	}
	return "rows/s"
}

func axes(b *strings.Builder, xl, yl string) {
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`, padL, padT, padL, chartH-padB)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" font-size="11">%s</text>`, (padL+chartW)/2, chartH-6, xl)
	fmt.Fprintf(b, `<text x="12" y="%.0f" text-anchor="middle" font-size="11" transform="rotate(-90 12 %.0f)">%s</text>`, chartH/2, chartH/2, yl)
}

func legend(b *strings.Builder, r *Result) {
	for i, s := range strategiesOf(r) {
		fmt.Fprintf(b, `<circle cx="%.0f" cy="%.0f" r="4" fill="%s"/><text x="%.0f" y="%.0f" font-size="10">%s</text>`, chartW-110, padT+6+float64(i)*13, colour(r, s), chartW-102, padT+9+float64(i)*13, s)
	}
}

var reportPage = template.Must(template.New("tune").Funcs(template.FuncMap{
	"rate": results.Num, "secs": results.Dur,
	"bytes": func(b uint64) string {
		if b == 0 {
			return "n/a" // server cells have no RSS of their own
		}
		return results.Bytes(b)
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f) },
	"f2":  func(f float64) string { return fmt.Sprintf("%.2f", f) },
	// Replaced per report (Report): they read the result.
	"value":    func(Recommendation) string { return "" },
	"interval": func(Recommendation) string { return "" },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}
.rec{background:#f3f8ff;border:1px solid #bcd;padding:.6em 1em;margin:.5em 0}
.warn{background:#fff4e5;border:1px solid #f0c080;padding:.6em 1em}
svg{border:1px solid #eee;margin:.3em 0}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Searched <b>{{.R.Visited}} of {{.R.Grid}}</b> points ({{pct .R.VisitedPct}} of the grid a brute-force run measures) in {{.R.Steps}} steps, {{printf "%.0f" .R.Seconds}} s of measuring.
Stopped: {{.R.StopReason}}. Climb objective: {{.R.Objective}}. Constraints: {{.R.Constraints}}.{{if .R.Server}} Server load: each point served open-loop, then searched for its highest QPS within the SLO ({{.R.SLO}}); rows/s is the most it served at any load, p99 is at the fixed load.{{end}}</p>
{{if .R.Infeasible}}<p class="warn"><b>No recommendation.</b> {{.R.Infeasible}}</p>{{end}}
{{range .R.Recommendations}}<div class="rec"><b>{{.Objective}}</b>: {{.Point}} — {{value .}} ({{interval .}}){{if .Tied}}; tied with {{range $i, $p := .Tied}}{{if $i}}, {{end}}{{$p}}{{end}}{{end}}.
<br><small>{{if .MaxQPS}}{{rate .MaxQPS}} req/s within the SLO, {{end}}{{rate .RowsPerSecond}} rows/s, p99 {{secs .P99}}, peak RSS {{bytes .PeakRSS}}, {{f2 .CoresBusy}} cores busy{{if .Note}}; {{.Note}}{{end}}</small></div>
{{end}}
<h2>Why</h2>
<ul>{{range .R.Why}}<li>{{.}}</li>{{else}}<li>no pair of points differing in one setting was measured</li>{{end}}</ul>
<h2>Points tried over the steps</h2>
<p><small>Throughput on the first baseline's scale: each point's paired ratio to the step's baseline (the best so far) times the baseline's estimate. Dashed: the best meeting the constraints. Hollow: misses a constraint.</small></p>
{{.Timeline}}
<h2>Pareto front: throughput, p99, memory</h2>
<p><small>Coloured and joined: no other point has higher throughput, lower p99 and less memory at once. Marker area: peak RSS.</small></p>
{{.Front}}
<table><tr><th>point</th>{{if .R.Server}}<th>max req/s within the SLO</th>{{end}}<th>rows/s</th><th>p99</th><th>peak RSS</th><th>cores busy</th></tr>
{{range .R.Front}}<tr><td>{{.Point}}</td>{{if $.R.Server}}<td>{{rate .MaxQPS}}</td>{{end}}<td>{{rate .RowsPerSecond}}</td><td>{{secs .P99}}</td><td>{{bytes .PeakRSS}}</td><td>{{f2 .CoresBusy}}</td></tr>
{{end}}</table>
<h2>Every step</h2>
<table><tr><th>step</th><th class="l">kind</th><th class="l">points (first: the paired baseline)</th><th>seconds</th></tr>
{{range .State.Steps}}<tr><td>{{.Index}}</td><td class="l">{{.Kind}}</td><td class="l">{{range $i, $m := .Measurements}}{{if $i}}<br>{{end}}{{$m.Point}} — {{if $m.Measured}}{{if $m.MaxQPS}}max {{rate $m.MaxQPS}} req/s within the SLO, {{end}}{{rate $m.RowsPerSecond}} rows/s, p99 {{secs $m.P99}}{{else}}{{$m.Status}} {{$m.Error}}{{end}}{{end}}</td><td>{{printf "%.1f" .Seconds}}</td></tr>
{{end}}</table>
<h2>Every point</h2>
<table><tr><th>point</th><th>first step</th>{{if .R.Server}}<th>max req/s within the SLO</th>{{end}}<th>rows/s</th><th>p99</th><th>peak RSS</th><th>cores busy</th><th class="l">constraints</th></tr>
{{range .R.Points}}<tr><td>{{.Point}}</td><td>{{.FirstStep}}</td>{{if .Failed}}<td colspan="{{if $.R.Server}}5{{else}}4{{end}}">failed: {{.Error}}</td>{{else}}{{if $.R.Server}}<td>{{rate .MaxQPS}}</td>{{end}}<td>{{rate .RowsPerSecond}}</td><td>{{secs .P99}}</td><td>{{bytes .PeakRSS}}</td><td>{{f2 .CoresBusy}}</td>{{end}}<td class="l">{{if .Violates}}misses {{range .Violates}}{{.}} {{end}}{{else if not .Failed}}met{{end}}</td></tr>
{{end}}</table>
</body></html>
`))
