package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// servingCharts are the server scenario's charts: p99 latency against
// offered load per strategy with the SLO line (the hockey stick), each
// strategy's max sustainable QPS, and the latency percentiles of the cells
// at one load. Empty for an offline run.
func servingCharts(run *results.Run, col colors) template.HTML {
	var server []*results.Cell
	for i := range run.Cells {
		if c := &run.Cells[i]; c.Serving != nil && results.Measured(c.Status) {
			server = append(server, c)
		}
	}
	if len(server) == 0 {
		return ""
	}
	return servingTables(run, server) + hockeyChart(server, col, false) + hockeyChart(server, col, true) + maxQPSChart(server, col) + percentileChart(server, run.Percentiles(), col)
}

// servingTable is one table of server cells: the metric list's serving
// columns (results.ServingColumns, as the terminal's table), the
// saturation's reason beside its verdict.
type servingTable struct {
	Caption string
	Header  []string
	Rows    []servingRow
}

type servingRow struct {
	Name    string
	Figures []figure
}

var servingTablesTmpl = template.Must(template.New("serving").Funcs(template.FuncMap{"breakable": breakable}).Parse(`{{range .}}<div class="serving-table">
{{with .Caption}}<h3>{{.}}</h3>{{end}}<table>
<thead><tr><th class="l">cell</th>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td class="l name">{{breakable .Name}}</td>{{range .Figures}}<td{{if .HasClass}} class="{{.Class}}"{{end}}>{{.Text}}{{if .Note}} <span class="ci">{{.Note}}</span>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
{{end}}`))

// servingTables: the server cells' figures (goodput, saturation and its
// reason among them), then each staged load's stages, one row a stage.
func servingTables(run *results.Run, cells []*results.Cell) template.HTML {
	cols := results.ServingColumns(run)
	table := func(caption string, cs []*results.Cell) servingTable {
		t := servingTable{Caption: caption}
		for _, k := range cols {
			t.Header = append(t.Header, k.Header)
		}
		for _, c := range cs {
			r := servingRow{Name: c.Name}
			for _, k := range cols {
				r.Figures = append(r.Figures, formatted(k, c))
			}
			t.Rows = append(t.Rows, r)
		}
		return t
	}
	tables := []servingTable{table("", cells)}
	for _, c := range cells {
		stages := results.StageCells(c)
		if len(stages) == 0 {
			continue
		}
		ptrs := make([]*results.Cell, len(stages))
		for i := range stages {
			ptrs[i] = &stages[i]
		}
		tables = append(tables, table(c.Name+", stage by stage", ptrs))
	}
	var b strings.Builder
	if err := servingTablesTmpl.Execute(&b, tables); err != nil {
		return template.HTML(template.HTMLEscapeString(err.Error()))
	}
	return template.HTML(b.String())
}

// servedCell is a server cell's plan cell: its name without the load.
func servedCell(c *results.Cell) string {
	n := c.Name
	for _, load := range []string{"/qps=", "/stages=", "/concurrency="} {
		if i := strings.LastIndex(n, load); i > 0 {
			n = n[:i]
		}
	}
	return strings.TrimSuffix(strings.TrimSuffix(n, "/slo_search_concurrency"), "/slo_search")
}

// loadPoint is one (offered load, p99) point; stage > 0: a staged
// load's stage, target its rate or ramp ("500→40000/s").
type loadPoint struct {
	qps, p99 float64
	stage    int
	target   string
}

// loadPoints are a server cell's (load, p99) points on the open loop's
// axis (offered requests/s) or, closed, the closed loop's (clients): a
// staged load's stages, each at its own offered rate (a ramp draws its
// own hockey stick), a search's steps, or the cell's one load. A cell of
// the other loop has none: a closed loop offers no rate of its own.
func loadPoints(s *results.Serving, closed bool) []loadPoint {
	var pts []loadPoint
	switch {
	case closed:
		if !s.ClosedLoop() {
			break
		}
		if s.Search != nil {
			for _, st := range s.Search.Steps {
				if st.P99Seconds > 0 && !st.Fixed && st.Concurrency > 0 {
					pts = append(pts, loadPoint{qps: float64(st.Concurrency), p99: st.P99Seconds})
				}
			}
		} else if s.Latency.P99 > 0 {
			pts = append(pts, loadPoint{qps: float64(s.Concurrency), p99: s.Latency.P99})
		}
	case s.ClosedLoop():
	case len(s.Stages) > 0:
		for _, st := range s.Stages {
			if st.Latency.P99 > 0 {
				target := fmt.Sprintf("%g/s", st.FromQPS) // as the stage tables name it
				if st.ToQPS != st.FromQPS {
					target = fmt.Sprintf("%g→%g/s", st.FromQPS, st.ToQPS)
				}
				pts = append(pts, loadPoint{st.OfferedQPS, st.Latency.P99, st.Stage, target})
			}
		}
	case s.Search != nil:
		for _, st := range s.Search.Steps {
			if st.P99Seconds > 0 && !st.Fixed { // fixed loads: their own cells
				pts = append(pts, loadPoint{qps: st.QPS, p99: st.P99Seconds})
			}
		}
	case s.Latency.P99 > 0:
		pts = append(pts, loadPoint{qps: s.TargetQPS, p99: s.Latency.P99})
	}
	return pts
}

// hockeyChart: p99 latency (log) against offered load, one line per
// plan cell, from its fixed loads and its search's steps; a staged load is
// a line of its own through its stages, each point numbered by its stage.
// closed draws the closed loop's instead: p99 against clients.
func hockeyChart(cells []*results.Cell, col colors, closed bool) template.HTML {
	id, title, xTitle, unit := "serving-hockey", "p99 latency vs offered load", "offered load (requests/s)", "requests/s"
	if closed {
		id, title, xTitle, unit = "serving-closed", "p99 latency vs clients (closed loop)", "clients (each sends its next request when the last returns)", "clients"
	}
	series := map[string][]loadPoint{}
	strat := map[string]string{}
	var order []string
	var slo float64
	for _, c := range cells {
		pts := loadPoints(c.Serving, closed)
		if len(pts) == 0 {
			continue
		}
		k := servedCell(c)
		if len(c.Serving.Stages) > 0 {
			k += ", stages"
		}
		if _, ok := series[k]; !ok {
			order = append(order, k)
			series[k] = nil
		}
		strat[k] = c.Strategy
		s := c.Serving
		if s.SLO != nil {
			slo = s.SLO.LatencySeconds
		}
		series[k] = append(series[k], pts...)
	}
	xhi, ylo, yhi := 0.0, math.Inf(1), slo
	for _, pts := range series {
		for _, p := range pts {
			xhi, ylo, yhi = math.Max(xhi, p.qps), math.Min(ylo, p.p99), math.Max(yhi, p.p99)
		}
	}
	if xhi == 0 {
		if closed {
			return "" // no closed-loop load in this run
		}
		return empty(id, title, "no open-loop load measured")
	}
	if slo > 0 {
		ylo = math.Min(ylo, slo)
	}
	s := newSVG(id, title, chartW, 420)
	f := newFrame(s, 80, 40, 30, 60)
	_, x1, xt := linearDomain(0, xhi, true)
	f.x = scale{0, x1, f.left, f.right, false}
	if closed { // clients double from 1: a log axis spaces them evenly
		var x0 float64
		x0, x1, xt = logDomain(1, xhi)
		f.x = scale{x0, x1, f.left, f.right, true}
	}
	y0, y1, yt := logDomain(ylo, yhi)
	f.y = scale{y0, y1, f.bottom, f.top, true}
	f.axes(xt, tickRate, xTitle, yt, tickDur, "p99 latency from scheduled arrival")
	var items []legendItem
	var labels []stageLabel // every series', placed once the lines are drawn
	for i, k := range order {
		pts := series[k]
		sort.Slice(pts, func(a, b int) bool { return pts[a].qps < pts[b].qps })
		color := col[strat[k]]
		dash := ""
		if i%2 == 1 {
			dash = "6 3"
		}
		var line [][2]float64
		var own []stageLabel
		for _, p := range pts {
			x, y := f.x.at(p.qps), f.y.at(p.p99)
			line = append(line, [2]float64{x, y})
			tip := fmt.Sprintf("%s at %.0f %s: p99 %s", k, p.qps, unit, tickDur(p.p99))
			if p.stage > 0 {
				tip = fmt.Sprintf("%s: stage %d (%s), offered %.0f requests/s: p99 %s", k, p.stage, p.target, p.qps, tickDur(p.p99))
				own = addStageLabel(own, x, y, p.stage, color)
			}
			s.circle(x, y, 3.5, color, color, tip)
		}
		s.polyline(line, color, 2, dash)
		labels = append(labels, own...)
		label := shorten(k, 40)
		if strings.HasSuffix(k, ", stages") {
			label = shorten(strings.TrimSuffix(k, ", stages"), 30) + ", stages (numbered)"
		}
		items = append(items, legendItem{label: label, color: color, dash: dash})
	}
	if slo > 0 {
		y := f.y.at(slo)
		s.line(f.left, y, f.right, y, "marker")
		// At the left end, where the x axis starts at 0 requests/s and no
		// load was offered, in the SLO's own colour on a white halo (a
		// line that does cross it does not hide it).
		s.text(f.left+6, y-6, "start", "marker-label", "SLO "+tickDur(slo))
	}
	sloY := math.NaN()
	if slo > 0 {
		sloY = f.y.at(slo)
	}
	drawStageLabels(s, labels, f.left, sloY)
	legend(s, f.left, 22, items)
	return s.html()
}

// stageLabel is the stage numbers drawn beside a staged load's point, in
// its series' colour.
type stageLabel struct {
	x, y        float64
	text, color string
}

// addStageLabel numbers one series' point at (x, y) with its stage,
// joining the number to a label of the series already within a few
// pixels ("1, 4": a last stage back at the first's rate) rather than
// drawing one over the other.
func addStageLabel(labels []stageLabel, x, y float64, stage int, color string) []stageLabel {
	for i := range labels {
		if math.Abs(labels[i].x-x) < 14 && math.Abs(labels[i].y-y) < 12 {
			labels[i].text += fmt.Sprintf(", %d", stage)
			return labels
		}
	}
	return append(labels, stageLabel{x, y, fmt.Sprint(stage), color})
}

// drawStageLabels draws each label at the first corner of its point that
// neither an earlier label nor the SLO's label (at the left end of the
// line at sloY; NaN: none) covers — points of two series at one load
// keep both numbers readable.
func drawStageLabels(s *svg, labels []stageLabel, left, sloY float64) {
	type box struct{ x0, y0, x1, y1 float64 }
	taken := []box{}
	if !math.IsNaN(sloY) {
		taken = append(taken, box{left, sloY - 20, left + 90, sloY})
	}
	free := func(b box) bool {
		for _, t := range taken {
			if b.x0 < t.x1 && t.x0 < b.x1 && b.y0 < t.y1 && t.y0 < b.y1 {
				return false
			}
		}
		return true
	}
	for _, l := range labels {
		w := 7.5 * float64(len(l.text))
		var b box
		for _, off := range [][2]float64{{6, -7}, {6, 16}, {-6 - w, -7}, {-6 - w, 16}} {
			b = box{l.x + off[0], l.y + off[1] - 12, l.x + off[0] + w, l.y + off[1]}
			if free(b) {
				break
			}
		}
		taken = append(taken, b)
		s.raw(`<text x="%.1f" y="%.1f" text-anchor="start" class="point-label" style="fill: %s">%s</text>`, b.x0, b.y1, esc(l.color), esc(l.text))
	}
}

// maxQPSChart: each strategy's max sustainable QPS under the SLO.
func maxQPSChart(cells []*results.Cell, col colors) template.HTML {
	var rows []barRow
	for _, c := range cells {
		if s := c.Serving.Search; s != nil {
			label, how := servedCell(c), ""
			if c.Serving.ClosedLoop() {
				label = "closed loop: " + label
				how = fmt.Sprintf(" at %d clients", s.MaxConcurrency)
			}
			rows = append(rows, barRow{label: label, bars: []bar{{value: s.MaxSustainableQPS, color: col[c.Strategy],
				title: fmt.Sprintf("%s: %.0f requests/s within the SLO%s (%d steps)", label, s.MaxSustainableQPS, how, len(s.Steps))}}})
		}
	}
	if len(rows) == 0 {
		return ""
	}
	return hbars("serving-max-qps", "max sustainable QPS", rows, false, tickRate, "max sustainable QPS (requests/s within the SLO)", nil, 0, "")
}

// percentileChart: the latency percentiles of the cells at the first
// fixed load (else each search's reported step), on a "nines" axis: the
// run's percentiles ps, then the max.
func percentileChart(cells []*results.Cell, ps []float64, col colors) template.HTML {
	const id, title = "serving-percentiles", "latency by percentile"
	load := 0.0
	for _, c := range cells {
		if c.Serving.Search == nil {
			load = c.Serving.TargetQPS
			break
		}
	}
	var chosen []*results.Cell
	for _, c := range cells {
		if (load > 0 && c.Serving.Search == nil && c.Serving.TargetQPS == load) || (load == 0 && c.Serving.Search != nil) {
			chosen = append(chosen, c)
		}
	}
	if len(chosen) == 0 {
		return ""
	}
	type nine struct {
		x     float64
		label string
		get   func(l results.Latency) float64
	}
	var nines []nine
	for _, p := range ps { // x: the nines, p99 = 2, p99.9 = 3
		nines = append(nines, nine{-math.Log10(1 - p/100), results.PercentileName(p), func(l results.Latency) float64 { return l.At(p) }})
	}
	top := math.Max(4, math.Ceil(nines[len(nines)-1].x+0.5))
	nines = append(nines, nine{top, "max", func(l results.Latency) float64 { return l.Max }})
	ylo, yhi := math.Inf(1), 0.0
	for _, c := range chosen {
		for _, n := range nines {
			if v := n.get(c.Serving.Latency); v > 0 {
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
	}
	if yhi == 0 {
		return empty(id, title, "no latency recorded")
	}
	what := fmt.Sprintf("at %.0f requests/s", load)
	switch n := len(chosen[0].Serving.Stages); {
	case load == 0:
		what = "at each strategy's max sustainable QPS"
	case n > 0: // its target_qps is the stages' mean, no load of its own
		what = fmt.Sprintf("over the whole staged load (%d stages; each stage's in its table)", n)
	}
	s := newSVG(id, title+" "+what, chartW, 380)
	f := newFrame(s, 80, 40, 30, 60)
	y0, y1, yt := logDomain(ylo, yhi)
	f.x = scale{0, top + 0.2, f.left, f.right, false}
	f.y = scale{y0, y1, f.bottom, f.top, true}
	var xt []float64
	for _, n := range nines {
		xt = append(xt, n.x)
	}
	label := func(x float64) string {
		for _, n := range nines {
			if n.x == x {
				return n.label
			}
		}
		return ""
	}
	f.axes(xt, label, "percentile, latency from scheduled arrival "+what, yt, tickDur, "latency")
	var items []legendItem
	for _, c := range chosen {
		color := col[c.Strategy]
		var line [][2]float64
		for _, n := range nines {
			if v := n.get(c.Serving.Latency); v > 0 {
				x, y := f.x.at(n.x), f.y.at(v)
				line = append(line, [2]float64{x, y})
				s.circle(x, y, 3, color, color, fmt.Sprintf("%s %s: %s", servedCell(c), n.label, tickDur(v)))
			}
		}
		s.polyline(line, color, 2, "")
		items = append(items, legendItem{label: shorten(servedCell(c), 40), color: color})
	}
	legend(s, f.left, 22, items)
	return s.html()
}

// servingBest is a server run's header figure: the serving verdict's
// winner and its max QPS within the SLO, else the cell with the highest
// achieved QPS; false for an offline run.
func servingBest(run *results.Run) (string, bool) {
	for _, v := range run.ServingVerdicts {
		if v.Best != "" {
			return fmt.Sprintf("%s — %s QPS within the SLO", v.Best, results.Num(v.MaxQPS)), true
		}
	}
	var best *results.Cell
	server := false
	for i := range run.Cells {
		c := &run.Cells[i]
		server = server || c.Serving != nil
		if c.Serving != nil && results.Measured(c.Status) && (best == nil || c.Serving.AchievedQPS > best.Serving.AchievedQPS) {
			best = c
		}
	}
	if best == nil {
		return "", server
	}
	return fmt.Sprintf("%s — %s QPS achieved", best.Name, results.Num(best.Serving.AchievedQPS)), true
}
