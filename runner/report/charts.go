package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// palette is Okabe–Ito without its yellow (too pale on white): distinguishable
// with the common colour-vision deficiencies.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#8C6D31", "#7F7F7F"}

const (
	// colMarker draws reference lines (the SLO, the machine's cores): a
	// colour no series uses; report.html.tmpl's svg .marker matches it.
	colMarker = "#6A3D9A"
	colRSS    = "#56B4E9"
	colPSS    = "#0072B2"
	colCPU    = "#E69F00"
)

// colors gives each strategy one colour for the whole page, in the order the
// strategies first appear in the run.
type colors map[string]string

func strategyColors(run *results.Run) colors {
	c := colors{}
	for _, cell := range run.Cells {
		if _, ok := c[cell.Strategy]; !ok {
			c[cell.Strategy] = palette[len(c)%len(palette)]
		}
	}
	return c
}

// frame is a plot area inside an svg with its two scales.
type frame struct {
	s                        *svg
	x, y                     scale
	left, top, right, bottom float64
}

func newFrame(s *svg, left, top, right, bottom float64) *frame {
	return &frame{s: s, left: left, top: top, right: s.w - right, bottom: s.h - bottom}
}

// axes draws grid lines, ticks, tick labels and the axis titles.
func (f *frame) axes(xticks []float64, xfmt func(float64) string, xtitle string, yticks []float64, yfmt func(float64) string, ytitle string) {
	s := f.s
	for _, t := range yticks {
		y := f.y.at(t)
		s.line(f.left, y, f.right, y, "grid")
		s.text(f.left-6, y+4, "end", "tick", yfmt(t))
	}
	for _, t := range xticks {
		x := f.x.at(t)
		s.line(x, f.top, x, f.bottom, "grid")
		s.text(x, f.bottom+16, "middle", "tick", xfmt(t))
	}
	s.line(f.left, f.bottom, f.right, f.bottom, "axis")
	s.line(f.left, f.top, f.left, f.bottom, "axis")
	s.text((f.left+f.right)/2, f.bottom+36, "middle", "axis-title", xtitle)
	cy := (f.top + f.bottom) / 2
	s.raw(`<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle" class="axis-title">%s</text>`, f.left-58, cy, esc(ytitle))
}

// legend draws swatches left to right from (x, y), wrapping at the chart's edge.
func legend(s *svg, x, y float64, items []legendItem) {
	x0 := x
	for _, it := range items {
		w := 40 + 7.5*float64(len([]rune(it.label)))
		if x+w > s.w-10 && x > x0 {
			x, y = x0, y+18
		}
		switch it.shape {
		case "line":
			s.raw(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>`, x, y-4, x+18, y-4, it.color, it.dash)
			if it.marker != "" {
				s.marker(it.marker, x+9, y-4, 4.5, it.color, it.label)
			}
		case "ring":
			s.circle(x+9, y-4, 6, "none", "#111", it.label)
		default:
			s.raw(`<rect x="%.1f" y="%.1f" width="14" height="10" fill="%s" rx="2"/>`, x+2, y-9, it.color)
		}
		s.text(x+24, y, "start", "legend", it.label)
		x += w
	}
}

type legendItem struct {
	label, color, shape, dash string
	// marker is the series' marker shape drawn on its line swatch ("": none).
	marker string
}

func fmtSpeedup(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) + "×" }
func fmtPlain(v float64) string   { return strconv.FormatFloat(v, 'g', 4, 64) }

// fmtCores shows at most two decimals: 1.06 cores, 0.5, 16.
func fmtCores(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// okCells are the cells whose numbers mean something (ok or unstable).
func okCells(run *results.Run) []*results.Cell {
	var cs []*results.Cell
	for i := range run.Cells {
		if results.Measured(run.Cells[i].Status) {
			cs = append(cs, &run.Cells[i])
		}
	}
	return cs
}

// coresAsked is the x of the speedup chart: workers × intra-op threads
// (× inter-op threads) as the cell asked for them — a hybrid 2 × 2 sits at
// 4 on a 2-core machine, where cores_used (capped at the machine's cores)
// would put it beside the 2-worker cells.
func coresAsked(c *results.Cell) float64 {
	n := 1
	for _, k := range []string{"workers", "threads", "inter_op_threads"} {
		if v := c.Params.Int(k); v > 0 {
			n *= v
		}
	}
	return float64(max(n, 1))
}

// coreKeys place a cell on the speedup chart's x axis; the strategy's other
// keys that vary between its cells make variants, each its own series.
var coreKeys = map[string]bool{"workers": true, "threads": true, "inter_op_threads": true, "batch_size": true}

// variants names, per cell, the keys beyond coreKeys in which its
// strategy's measured cells differ ("spinning=true"); "" where they agree.
func variants(cs []*results.Cell) map[*results.Cell]string {
	values := map[string]map[string]map[string]bool{} // strategy → key → values
	for _, c := range cs {
		if values[c.Strategy] == nil {
			values[c.Strategy] = map[string]map[string]bool{}
		}
		for _, p := range c.Params {
			if !coreKeys[p.Key] {
				if values[c.Strategy][p.Key] == nil {
					values[c.Strategy][p.Key] = map[string]bool{}
				}
				values[c.Strategy][p.Key][results.FormatValue(p.Value)] = true
			}
		}
	}
	out := map[*results.Cell]string{}
	for _, c := range cs {
		var parts []string
		for _, p := range c.Params {
			if !coreKeys[p.Key] && len(values[c.Strategy][p.Key]) > 1 {
				parts = append(parts, p.Key+"="+results.FormatValue(p.Value))
			}
		}
		out[c] = strings.Join(parts, " ")
	}
	return out
}

// speedupPoint is one cell on the speedup chart, with its paired interval
// (lo = hi = y without one).
type speedupPoint struct {
	x, y, lo, hi float64
	c            *results.Cell
}

func newSpeedupPoint(c *results.Cell) speedupPoint {
	p := speedupPoint{coresAsked(c), c.Speedup, c.Speedup, c.Speedup, c}
	if iv := c.SpeedupInterval; iv != nil && iv.HasInterval() {
		p.lo, p.hi = iv.Lo, iv.Hi
	}
	return p
}

// dodging spreads the series that have a point at the same x side by side
// (in series order, centred on x), so their markers and error bars do not
// hide each other; the offset in pixels per cell.
func dodging(order []string, series map[string][]speedupPoint, f *frame) map[*results.Cell]float64 {
	at := map[float64][]*results.Cell{}
	for _, key := range order {
		for _, p := range series[key] {
			at[p.x] = append(at[p.x], p.c)
		}
	}
	step := 12.0
	if len(at) > 1 { // never wider than a third of the gap between x ticks
		step = math.Min(step, (f.x.at(1)-f.x.at(0))/3/float64(maxLen(at)))
	}
	out := map[*results.Cell]float64{}
	for _, cs := range at {
		for i, c := range cs {
			out[c] = (float64(i) - float64(len(cs)-1)/2) * step
		}
	}
	return out
}

func maxLen(m map[float64][]*results.Cell) int {
	n := 1
	for _, v := range m {
		n = max(n, len(v))
	}
	return n
}

// speedupChart plots speedup against workers × threads per strategy (and
// per variant: the strategy's other keys that vary, each with its own
// marker shape), with the paired interval as an error bar and the ideal
// y = x line that perfect scaling would follow.
func speedupChart(run *results.Run, col colors) template.HTML {
	const id, title = "chart-speedup", "Speedup vs workers × threads"
	series := map[string][]speedupPoint{}
	var order []string
	batches := map[int]bool{}
	for _, c := range okCells(run) {
		batches[c.Params.Int("batch_size")] = true
	}
	variant := variants(okCells(run))
	// At least 4 cores and 2× wide so a lone point does not get fractional ticks.
	maxX, maxY := 4.0, 2.0
	for _, c := range okCells(run) {
		if !c.HasSpeedup() {
			continue
		}
		key := c.Strategy
		if v := variant[c]; v != "" {
			key += " " + v
		}
		if len(batches) > 1 {
			key = fmt.Sprintf("%s, batch %d", key, c.Params.Int("batch_size"))
		}
		if _, ok := series[key]; !ok {
			order = append(order, key)
		}
		p := newSpeedupPoint(c)
		series[key] = append(series[key], p)
		maxX, maxY = math.Max(maxX, p.x), math.Max(maxY, p.hi)
	}
	if len(order) == 0 {
		if allServer(run) {
			return empty(id, title, "server cells have no speedup: each serves a given load (the Serving section has their max QPS)")
		}
		return empty(id, title, "no successful cell has a speedup to plot")
	}
	s := newSVG(id, title, chartW, 420)
	f := newFrame(s, 78, 50, 40, 56)
	_, xhi, xt := linearDomain(0, maxX, true)
	_, yhi, yt := linearDomain(0, maxY, true)
	f.x = scale{0, xhi, f.left, f.right, false}
	f.y = scale{0, yhi, f.bottom, f.top, false}
	f.axes(xt, fmtPlain, "workers × intra-op threads (cores asked for)", yt, fmtSpeedup, "speedup vs sequential (bars: paired 95% interval)")
	// Ideal: speedup equals cores used, clipped to the plot.
	m := math.Min(xhi, yhi)
	s.polyline([][2]float64{{f.x.at(0), f.y.at(0)}, {f.x.at(m), f.y.at(m)}}, "#999", 1.5, "6 4")
	s.text(f.x.at(m*0.9)+8, f.y.at(m*0.9)+4, "start", "muted", "ideal (y = x)")
	dodge := dodging(order, series, f)
	items := []legendItem{}
	shapes := map[string]int{} // per strategy: its series so far, for the marker shape
	for i, key := range order {
		pts := series[key]
		sort.Slice(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
		strategy := pts[0].c.Strategy
		color, shape := col[strategy], markerShapes[shapes[strategy]%len(markerShapes)]
		shapes[strategy]++
		dash := ""
		if len(batches) > 1 {
			dash = []string{"", "5 3", "2 3", "8 3 2 3"}[i%4]
		}
		var line [][2]float64
		for _, p := range pts {
			line = append(line, [2]float64{f.x.at(p.x) + dodge[p.c], f.y.at(p.y)})
		}
		s.polyline(line, color, 2.5, dash)
		for _, p := range pts {
			s.errorBar(f.x.at(p.x)+dodge[p.c], f.y.at(p.lo), f.y.at(p.hi), color)
		}
		for _, p := range pts {
			tip := fmt.Sprintf("%s\nspeedup %.2f× on %g cores asked for (efficiency %.0f%%)", p.c.Name, p.y, p.x, 100*p.c.Efficiency)
			if p.hi > p.lo {
				tip += fmt.Sprintf("\npaired 95%% interval %.2f–%.2f×", p.lo, p.hi)
			}
			s.marker(shape, f.x.at(p.x)+dodge[p.c], f.y.at(p.y), 5, color, tip)
		}
		items = append(items, legendItem{label: key, color: color, shape: "line", dash: dash, marker: shape})
	}
	items = append(items, legendItem{label: "ideal", color: "#999", shape: "line", dash: "6 4"})
	legend(s, f.left, 24, items)
	return s.html()
}

// paretoCells returns, for each cell, whether no other cell has both at least
// its throughput and at most its p99 latency (and is better in one).
func paretoCells(cs []*results.Cell) []bool {
	best := make([]bool, len(cs))
	for i, a := range cs {
		best[i] = true
		for j, b := range cs {
			if i != j && b.RowsPerSecond >= a.RowsPerSecond && b.Latency.P99 <= a.Latency.P99 &&
				(b.RowsPerSecond > a.RowsPerSecond || b.Latency.P99 < a.Latency.P99) {
				best[i] = false
				break
			}
		}
	}
	return best
}

// paretoFrame is the pareto chart's frame: p99 across, rows/s up, each on
// a log scale where the cells span far enough to want one.
func paretoFrame(s *svg, cs []*results.Cell) *frame {
	xlo, xhi, ylo, yhi := math.Inf(1), 0.0, math.Inf(1), 0.0
	for _, c := range cs {
		xlo, xhi = math.Min(xlo, c.Latency.P99), math.Max(xhi, c.Latency.P99)
		ylo, yhi = math.Min(ylo, c.RowsPerSecond), math.Max(yhi, c.RowsPerSecond)
	}
	f := newFrame(s, 78, 50, 40, 56)
	xlog, ylog := wantLog(xlo, xhi), wantLog(ylo, yhi)
	var xt, yt []float64
	if xlog {
		xlo, xhi, xt = logDomain(xlo, xhi)
	} else {
		xlo, xhi, xt = linearDomain(xlo, xhi, true)
	}
	if ylog {
		ylo, yhi, yt = logDomain(ylo, yhi)
	} else {
		ylo, yhi, yt = linearDomain(ylo, yhi, true)
	}
	f.x = scale{xlo, xhi, f.left, f.right, xlog}
	f.y = scale{ylo, yhi, f.bottom, f.top, ylog}
	xtitle, ytitle := "p99 batch latency", "throughput (rows/s)"
	if xlog {
		xtitle += " (log scale)"
	}
	if ylog {
		ytitle += " (log)"
	}
	f.axes(xt, tickDur, xtitle+" — left is better", yt, tickRate, ytitle)
	return f
}

// paretoChart plots throughput against p99 latency for every ok cell and
// rings the Pareto-best ones: up and to the left is better.
func paretoChart(run *results.Run, col colors) (template.HTML, []string) {
	const id, title = "chart-pareto", "Throughput vs p99 latency"
	var cs []*results.Cell
	for _, c := range okCells(run) {
		if c.RowsPerSecond > 0 && c.Latency.P99 > 0 {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return empty(id, title, "no successful cell has throughput and latency to plot"), nil
	}
	best := paretoCells(cs)
	s := newSVG(id, title, chartW, 460)
	f := paretoFrame(s, cs)
	// The frontier, in latency order, shows the trade-off the best cells make.
	var front []*results.Cell
	for i, c := range cs {
		if best[i] {
			front = append(front, c)
		}
	}
	sort.Slice(front, func(a, b int) bool { return front[a].Latency.P99 < front[b].Latency.P99 })
	var fl [][2]float64
	for _, c := range front {
		fl = append(fl, [2]float64{f.x.at(c.Latency.P99), f.y.at(c.RowsPerSecond)})
	}
	if len(fl) > 1 {
		s.polyline(fl, "#111", 1.2, "4 3")
	}
	for i, c := range cs {
		x, y := f.x.at(c.Latency.P99), f.y.at(c.RowsPerSecond)
		tip := fmt.Sprintf("%s\n%s rows/s, p99 %s", c.Name, results.Num(c.RowsPerSecond), results.Dur(c.Latency.P99))
		if best[i] {
			s.circle(x, y, 10, "none", "#111", tip+"\nPareto-best")
		}
		s.circle(x, y, 5.5, col[c.Strategy], "#fff", tip)
	}
	// Number the best cells (1 = fastest) and name them in a key under the
	// chart: long cell names placed beside points collide.
	sort.Slice(front, func(a, b int) bool { return front[a].RowsPerSecond > front[b].RowsPerSecond })
	var key []string
	for i, c := range front {
		x, y := f.x.at(c.Latency.P99), f.y.at(c.RowsPerSecond)
		s.text(x+9, y-9, "start", "point-label", strconv.Itoa(i+1))
		key = append(key, fmt.Sprintf("%s — %s rows/s, p99 %s", c.Name, results.Num(c.RowsPerSecond), results.Dur(c.Latency.P99)))
	}
	var items []legendItem
	seen := map[string]bool{}
	for _, c := range cs {
		if !seen[c.Strategy] {
			seen[c.Strategy] = true
			items = append(items, legendItem{label: c.Strategy, color: col[c.Strategy]})
		}
	}
	items = append(items, legendItem{label: "Pareto-best", shape: "ring"})
	legend(s, f.left, 24, items)
	return s.html(), key
}

// barRow is one labelled row of a horizontal bar chart.
type barRow struct {
	label string
	bars  []bar
}

type bar struct {
	value float64
	color string
	title string
}

// hbars draws horizontal grouped bars, one row per cell, so long cell names
// stay readable however many cells there are.
func hbars(id, title string, rows []barRow, bytes bool, fmtv func(float64) string, xtitle string, items []legendItem, marker float64, markerLabel string) template.HTML {
	if len(rows) == 0 {
		return empty(id, title, "no successful cell to plot")
	}
	per := len(rows[0].bars)
	rowH := math.Max(22, float64(per)*12+8)
	labelW := 0.0
	for _, r := range rows {
		labelW = math.Max(labelW, 7*float64(len([]rune(shorten(r.label, 56)))))
	}
	left := math.Min(math.Max(labelW+16, 120), 420)
	h := 40 + rowH*float64(len(rows)) + 8 + 50
	s := newSVG(id, title, chartW, h)
	f := newFrame(s, left, 40, 90, 50)
	hi := marker
	for _, r := range rows {
		for _, b := range r.bars {
			hi = math.Max(hi, b.value)
		}
	}
	_, xhi, xt := linearDomain(0, hi, true)
	if bytes {
		_, xhi, xt = byteDomain(hi)
	}
	f.x = scale{0, xhi, f.left, f.right, false}
	for _, t := range xt {
		x := f.x.at(t)
		s.line(x, f.top, x, f.bottom, "grid")
		s.text(x, f.bottom+16, "middle", "tick", fmtv(t))
	}
	s.line(f.left, f.bottom, f.right, f.bottom, "axis")
	s.line(f.left, f.top, f.left, f.bottom, "axis")
	s.text((f.left+f.right)/2, f.bottom+36, "middle", "axis-title", xtitle)
	bh := (rowH - 8) / float64(per)
	for i, r := range rows {
		y0 := f.top + 4 + rowH*float64(i)
		s.raw(`<text x="%.1f" y="%.1f" text-anchor="end" class="tick"><title>%s</title>%s</text>`, f.left-8, y0+rowH/2, esc(r.label), esc(shorten(r.label, 56)))
		for j, b := range r.bars {
			y := y0 + bh*float64(j)
			w := f.x.at(b.value) - f.left
			s.rect(f.left, y, w, bh-1.5, b.color, b.title)
			s.text(f.left+w+5, y+bh-2.5, "start", "value", fmtv(b.value))
		}
	}
	if marker > 0 {
		x := f.x.at(marker)
		s.line(x, f.top-4, x, f.bottom, "marker")
		s.text(x, f.top-8, "middle", "marker-label", markerLabel)
	}
	legend(s, f.left, 22, items)
	return s.html()
}

// memoryChart shows, per cell, the sum of RSS beside the sum of PSS: where
// they differ, pages are shared between processes (or copy-on-write).
func memoryChart(run *results.Run) template.HTML {
	var rows []barRow
	for _, c := range okCells(run) {
		rss := c.Memory.RSSSumBytes
		if rss == 0 {
			rss = c.Memory.PeakRSSBytes
		}
		if rss == 0 && c.Memory.PSSSumBytes == 0 {
			continue
		}
		procs := max(c.Memory.Processes, 1)
		per := ""
		for _, p := range c.Memory.PerProcess {
			per += fmt.Sprintf("\n  %s %d: RSS %s, PSS %s", p.Role, p.PID, results.Bytes(p.PeakRSSBytes), results.Bytes(p.PeakPSSBytes))
		}
		rows = append(rows, barRow{label: c.Name, bars: []bar{
			{float64(rss), colRSS, fmt.Sprintf("%s\nRSS sum %s over %d process(es)%s", c.Name, results.Bytes(rss), procs, per)},
			{float64(c.Memory.PSSSumBytes), colPSS, fmt.Sprintf("%s\nPSS sum %s (USS sum %s)", c.Name, results.Bytes(c.Memory.PSSSumBytes), results.Bytes(c.Memory.USSSumBytes))},
		}})
	}
	if len(rows) == 0 && allServer(run) {
		return empty("chart-memory", "Memory per cell", "server cells are not sampled for memory")
	}
	return hbars("chart-memory", "Memory per cell", rows, true, tickBytes, "bytes (RSS counts shared pages once per process; PSS splits them)",
		[]legendItem{{label: "RSS sum", color: colRSS}, {label: "PSS sum", color: colPSS}}, 0, "")
}

// allServer reports whether the run has successful cells and every one
// of them ran under server load.
func allServer(run *results.Run) bool {
	cells := okCells(run)
	for _, c := range cells {
		if !c.IsServer() {
			return false
		}
	}
	return len(cells) > 0
}

// memoryNote says, for an interleaved run with several in-process cells,
// that their memory figures are one shared process's ("" otherwise).
func memoryNote(run *results.Run) string {
	if run.Schedule.Kind != "interleaved" {
		return ""
	}
	n := 0
	for _, c := range okCells(run) {
		if c.Memory.Processes <= 1 && c.Serving == nil {
			n++
		}
	}
	if n < 2 {
		return ""
	}
	return fmt.Sprintf("the %d in-process cells took turns in one ortbench process, every cell's sessions open at once, so their RSS and PSS are that one process's, not each cell's own. "+
		"For each cell's own memory, run with schedule: sequential (cell after cell); cells with worker processes measure their own processes either way.", n)
}

// cpuChart shows how many cores each cell kept busy, against the machine's.
func cpuChart(run *results.Run) template.HTML {
	var rows []barRow
	for _, c := range okCells(run) {
		if !c.HasCPU() {
			continue
		}
		busy := c.CPU.CoresBusy
		rows = append(rows, barRow{label: c.Name, bars: []bar{{busy, colCPU,
			fmt.Sprintf("%s\n%.2f cores busy (%.0f%% of the machine), user %.2fs, system %.2fs", c.Name, busy, 100*c.CPU.Utilization, c.CPU.UserSeconds, c.CPU.SystemSeconds)}}})
	}
	cores := float64(run.Environment.LogicalCores)
	return hbars("chart-cpu", "CPU utilisation per cell", rows, false, fmtCores, "cores busy (CPU time ÷ wall time)",
		[]legendItem{{label: "cores busy", color: colCPU}, {label: "logical cores", color: colMarker, shape: "line", dash: "5 3"}}, cores, fmt.Sprintf("%g logical cores", cores))
}

// slowestWithTimeline is the ok cell with the lowest throughput that has a
// timeline: the one where time went, and the longest trace to look at.
func slowestWithTimeline(run *results.Run) *results.Cell {
	var slow *results.Cell
	for _, c := range okCells(run) {
		if len(c.Timeline) < 2 {
			continue
		}
		if slow == nil || c.RowsPerSecond < slow.RowsPerSecond {
			slow = c
		}
	}
	return slow
}

// timelineChart plots memory and CPU over time for one cell, two panels on a
// shared time axis.
func timelineChart(run *results.Run) (template.HTML, string) {
	const id, title = "chart-timeline", "Memory and CPU over time"
	c := slowestWithTimeline(run)
	if c == nil {
		return empty(id, title, "no successful cell recorded a timeline"), ""
	}
	tl := c.Timeline
	s := newSVG(id, title+": "+c.Name, chartW, 480)
	t0, t1 := tl[0].Seconds, tl[len(tl)-1].Seconds
	_, thi, tt := linearDomain(0, t1-t0, true)
	var memHi, cpuHi float64
	hasPSS := false
	cpu := make([]float64, len(tl))
	for i, p := range tl {
		memHi = math.Max(memHi, float64(max(p.RSSBytes, p.PSSBytes)))
		hasPSS = hasPSS || p.PSSBytes > 0
		if i > 0 {
			if dt := p.Seconds - tl[i-1].Seconds; dt > 0 {
				cpu[i] = math.Max(0, (p.CPUSeconds-tl[i-1].CPUSeconds)/dt)
			}
		}
		cpuHi = math.Max(cpuHi, cpu[i])
	}
	// Top panel: memory.
	top := &frame{s: s, left: 90, top: 44, right: chartW - 40, bottom: 220}
	top.x = scale{0, thi, top.left, top.right, false}
	_, mhi, mt := byteDomain(memHi)
	top.y = scale{0, mhi, top.bottom, top.top, false}
	top.axes(tt, fmtPlain, "", mt, tickBytes, "memory")
	var rss, pss [][2]float64
	for _, p := range tl {
		x := top.x.at(p.Seconds - t0)
		rss = append(rss, [2]float64{x, top.y.at(float64(p.RSSBytes))})
		if p.PSSBytes > 0 {
			pss = append(pss, [2]float64{x, top.y.at(float64(p.PSSBytes))})
		}
	}
	s.polyline(rss, colRSS, 2.5, "")
	if hasPSS {
		s.polyline(pss, colPSS, 2.5, "5 3")
	}
	// Bottom panel: CPU, as cores busy between samples.
	bot := &frame{s: s, left: 90, top: 262, right: chartW - 40, bottom: 420}
	bot.x = top.x
	// Scale to what the cell used, so its variation shows; the machine's
	// cores are drawn only when the cell came near them.
	_, chi, ct := linearDomain(0, math.Max(cpuHi*1.15, 1), true)
	bot.y = scale{0, chi, bot.bottom, bot.top, false}
	bot.axes(tt, fmtPlain, "seconds since the cell started sampling", ct, fmtPlain, "cores busy")
	var cl [][2]float64
	for i := 1; i < len(tl); i++ {
		// A step per interval: CPU is an average over it, not a point value.
		cl = append(cl, [2]float64{bot.x.at(tl[i-1].Seconds - t0), bot.y.at(cpu[i])}, [2]float64{bot.x.at(tl[i].Seconds - t0), bot.y.at(cpu[i])})
	}
	s.polyline(cl, colCPU, 2, "")
	if lc := float64(run.Environment.LogicalCores); lc > 0 && lc <= chi {
		s.line(bot.left, bot.y.at(lc), bot.right, bot.y.at(lc), "marker")
		s.text(bot.right-4, bot.y.at(lc)-5, "end", "muted", fmt.Sprintf("%g logical cores", lc))
	}
	items := []legendItem{{label: "RSS", color: colRSS, shape: "line"}}
	if hasPSS {
		items = append(items, legendItem{label: "PSS", color: colPSS, shape: "line", dash: "5 3"})
	}
	items = append(items, legendItem{label: "CPU (cores busy)", color: colCPU, shape: "line"})
	legend(s, top.left, 22, items)
	return s.html(), c.Name
}

// shorten cuts a label to n runes with an ellipsis; the full text goes in a tooltip.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
