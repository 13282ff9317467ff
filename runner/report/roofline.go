package report

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/ortbench/ortbench/runner/results"
)

// roofPoint is a cell placed on the roofline.
type roofPoint struct {
	c         *results.Cell
	ai, gflop float64
}

// rooflineCells are the ok cells with both GFLOP/s and an arithmetic
// intensity, and how many more have GFLOP/s but no intensity.
func rooflineCells(run *results.Run) (pts []roofPoint, noIntensity int) {
	for _, c := range okCells(run) {
		x := c.Compute
		if x == nil || x.GFLOPS == nil || *x.GFLOPS <= 0 {
			continue
		}
		if x.FlopsPerByte == nil || *x.FlopsPerByte <= 0 {
			noIntensity++
			continue
		}
		pts = append(pts, roofPoint{c, *x.FlopsPerByte, *x.GFLOPS})
	}
	return pts, noIntensity
}

// roof is one core count's ceilings: GFLOP/s flat, GB/s sloped.
type roof struct {
	threads     int
	gflops, gbs float64
}

// rooflineChart plots each cell's GFLOP/s against its arithmetic intensity
// (FLOPs per byte), log-log, under the machine's measured ceilings at the
// core counts the cells were compared with: the bandwidth ceiling as the
// sloped line (GFLOP/s = GB/s × FLOPs/byte), the compute ceiling as the flat
// one, meeting at the ridge point. Empty (no section) unless the run has a
// ceiling and a cell with GFLOP/s. Points are numbered and named in the key
// returned with the chart: cells of one model and batch size share an
// intensity, so their names beside the points would collide.
func rooflineChart(run *results.Run, col colors) (template.HTML, []string) {
	const id, title = "chart-roofline", "Roofline: GFLOP/s vs arithmetic intensity"
	ceil := run.Environment.Ceiling
	if ceil == nil || len(ceil.Points) == 0 {
		return "", nil
	}
	pts, noAI := rooflineCells(run)
	if len(pts) == 0 && noAI == 0 {
		return "", nil
	}
	roofs := rooflineRoofs(ceil, pts)
	if len(roofs) == 0 {
		return "", nil
	}
	s := newSVG(id, title, chartW, 480)
	f := newFrame(s, 78, 50, 40, 56)
	xlo, xhi, ylo, yhi := rooflineDomain(pts, roofs)
	xlo, xhi, xt := tightLog(xlo, xhi)
	ylo, yhi, yt := tightLog(ylo, yhi)
	f.x = scale{xlo, xhi, f.left, f.right, true}
	f.y = scale{ylo, yhi, f.bottom, f.top, true}
	f.axes(xt, fmtLog, "arithmetic intensity (FLOPs per byte moved, log)", yt, fmtLog, "GFLOP/s (log)")

	items := drawRoofs(s, f, roofs, pts)
	key := drawRooflinePoints(s, f, pts, col)
	seen := map[string]bool{}
	var strat []legendItem
	for _, p := range pts {
		if !seen[p.c.Strategy] {
			seen[p.c.Strategy] = true
			strat = append(strat, legendItem{label: p.c.Strategy, color: col[p.c.Strategy]})
		}
	}
	legend(s, f.left, 24, append(strat, items...))
	if noAI > 0 {
		s.text(f.left+8, f.bottom-8, "start", "muted", fmt.Sprintf("%s with GFLOP/s but no arithmetic intensity not shown (see compute.note)", plural(noAI, "cell")))
	}
	return s.html(), key
}

// rooflineRoofs are the roofs of the core counts the cells were compared
// with, or the largest measured when no cell could be placed; by cores.
func rooflineRoofs(ceil *results.Ceiling, pts []roofPoint) []roof {
	var roofs []roof
	addRoof := func(cores int) {
		p, ok := ceil.At(cores)
		if !ok || p.GFLOPS <= 0 || slices.ContainsFunc(roofs, func(r roof) bool { return r.threads == p.Threads }) {
			return
		}
		roofs = append(roofs, roof{p.Threads, roofGFLOPS(ceil, p), p.BandwidthGBPS})
	}
	for _, p := range pts {
		addRoof(p.c.CoresUsed)
	}
	if len(roofs) == 0 {
		addRoof(math.MaxInt32)
	}
	sort.Slice(roofs, func(a, b int) bool { return roofs[a].threads < roofs[b].threads })
	return roofs
}

// roofGFLOPS is the compute roof at p's cores: the median of the rounds'
// bursts when the ceiling was measured every round (what the cells' % of
// ceiling is against), else p's best trial.
func roofGFLOPS(ceil *results.Ceiling, p results.CeilingPoint) float64 {
	if m, ok := ceil.BurstMedian(p.Threads); ok && ceil.How == results.CeilingEveryRound {
		return m
	}
	return p.GFLOPS
}

// rooflineDomain spans every point, every ceiling and every ridge point,
// with room.
func rooflineDomain(pts []roofPoint, roofs []roof) (xlo, xhi, ylo, yhi float64) {
	xlo, xhi, ylo, yhi = math.Inf(1), 0.0, math.Inf(1), 0.0
	for _, p := range pts {
		xlo, xhi = math.Min(xlo, p.ai), math.Max(xhi, p.ai)
		ylo, yhi = math.Min(ylo, p.gflop), math.Max(yhi, p.gflop)
	}
	for _, r := range roofs {
		yhi = math.Max(yhi, r.gflops)
		ylo = math.Min(ylo, r.gflops)
		if r.gbs > 0 {
			ridge := r.gflops / r.gbs
			xlo, xhi = math.Min(xlo, ridge), math.Max(xhi, ridge)
		}
	}
	if math.IsInf(xlo, 1) { // no point and no ridge: a neutral span
		xlo, xhi = 0.1, 1000
	}
	return xlo / 2, xhi * 2, ylo / 2, yhi * 1.3
}

// drawRoofs draws each roof — the slope up to its ridge point, then flat —
// with its labels, and returns their legend entries.
func drawRoofs(s *svg, f *frame, roofs []roof, pts []roofPoint) []legendItem {
	dashes := []string{"", "7 4", "3 3", "10 3 2 3", "1 3"}
	var items []legendItem
	var computeLabels []label // right-end labels, spread apart below
	var avoid [][2]float64    // points and labels a slope's label keeps clear of
	for _, p := range pts {
		avoid = append(avoid, [2]float64{f.x.at(p.ai), f.y.at(p.gflop)})
	}
	for i, r := range roofs {
		color := []string{"#333", "#6b6b6b", "#8f8f8f", "#4d4d4d", "#7a7a7a"}[i%5]
		dash := dashes[i%len(dashes)]
		cores := plural(r.threads, "core")
		yc := f.y.at(r.gflops)
		items = append(items, legendItem{label: "ceilings, " + cores, color: color, shape: "line", dash: dash})
		if r.gbs <= 0 {
			s.polyline([][2]float64{{f.left, yc}, {f.right, yc}}, color, 2, dash)
			computeLabels = append(computeLabels, label{y: yc - 10, text: fmt.Sprintf("%s: %s GFLOP/s (no bandwidth ceiling measured)", cores, fmtPlain(r.gflops))})
			continue
		}
		// The slope GFLOP/s = GB/s × x from where it enters the plot to the
		// ridge point, then flat.
		ridge := r.gflops / r.gbs
		x0 := math.Max(f.x.d0, f.y.d0/r.gbs) // the domain's lower ends
		line := [][2]float64{{f.x.at(x0), f.y.at(r.gbs * x0)}, {f.x.at(ridge), yc}, {f.right, yc}}
		s.polyline(line, color, 2, dash)
		s.raw(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`, f.x.at(ridge), yc, color,
			esc(fmt.Sprintf("ridge point, %s: %s FLOPs/byte (%s GFLOP/s ÷ %s GB/s)", cores, fmtPlain(ridge), fmtPlain(r.gflops), fmtPlain(r.gbs))))
		computeLabels = append(computeLabels, label{y: yc - 10, text: fmt.Sprintf("%s: %s GFLOP/s", cores, fmtPlain(r.gflops))})
		if at, ok := slopeLabel(line[0], line[1], avoid); ok {
			avoid = append(avoid, [2]float64{at[0], at[1]})
			s.raw(`<text transform="translate(%.1f %.1f) rotate(%.1f)" text-anchor="middle" dy="4" class="muted">%s</text>`, at[0], at[1], at[2],
				esc(fmt.Sprintf("%s: %s GB/s", cores, fmtPlain(r.gbs))))
		}
	}
	// Compute ceilings are named at the right end, above their lines,
	// spread apart where two are close.
	sort.SliceStable(computeLabels, func(a, b int) bool { return computeLabels[a].y < computeLabels[b].y })
	for k, y := range spread(computeLabels, 15, f.top+8, f.bottom) {
		s.text(f.right-4, y, "end", "muted", computeLabels[k].text)
	}
	return items
}

// slopeLabel places a bandwidth label along the slope from start to ridge,
// turned to its angle, at the place clearest of the points and of other
// roofs' labels: its middle and its angle in degrees; none on a slope too
// short to hold it.
func slopeLabel(start, ridge [2]float64, avoid [][2]float64) ([3]float64, bool) {
	sx, sy, rx, ry := start[0], start[1], ridge[0], ridge[1]
	if rx-sx <= 120 {
		return [3]float64{}, false
	}
	angle := math.Atan2(ry-sy, rx-sx)
	best, bestD := [3]float64{}, -1.0
	for _, t := range []float64{0.55, 0.35, 0.75, 0.2} {
		for _, side := range []float64{-1, 1} {
			// The label's middle, 10 px off the line on one side.
			cx := sx + t*(rx-sx) + side*10*math.Sin(angle)
			cy := sy + t*(ry-sy) - side*10*math.Cos(angle)
			d := math.Inf(1)
			for _, q := range avoid {
				d = math.Min(d, math.Hypot(q[0]-cx, q[1]-cy))
			}
			if d > bestD {
				best, bestD = [3]float64{cx, cy, angle * 180 / math.Pi}, d
			}
			if d > 80 {
				break
			}
		}
		if bestD > 80 {
			break
		}
	}
	return best, true
}

// drawRooflinePoints draws the cells, numbered by GFLOP/s (1 = the most)
// with their labels pushed apart, and returns the key naming each number.
func drawRooflinePoints(s *svg, f *frame, pts []roofPoint, col colors) []string {
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].gflop > pts[b].gflop })
	var key []string
	var labels []label
	for i, p := range pts {
		x, y := f.x.at(p.ai), f.y.at(p.gflop)
		s.circle(x, y, 5.5, col[p.c.Strategy], "#fff", rooflineTip(p))
		labels = append(labels, label{x: x, y: y, text: strconv.Itoa(i + 1)})
		key = append(key, p.c.Name+" — "+rooflineFacts(p))
	}
	placeLabels(s, labels, f.top, f.bottom)
	return key
}

// tightLog is logDomain with its ends at 1, 2 or 5 × a power of ten
// rather than whole decades, so that a plot does not waste most of a
// decade at either end.
func tightLog(lo, hi float64) (float64, float64, []float64) {
	_, _, ticks := logDomain(lo, hi)
	p := math.Pow(10, math.Floor(math.Log10(lo)))
	for _, m := range []float64{5, 2, 1} {
		if m*p <= lo {
			lo = m * p
			break
		}
	}
	p = math.Pow(10, math.Floor(math.Log10(hi)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= hi {
			hi = m * p
			break
		}
	}
	ticks = slices.DeleteFunc(ticks, func(t float64) bool { return t < lo*0.999 || t > hi*1.001 })
	ticks = append([]float64{lo}, slices.DeleteFunc(ticks, func(t float64) bool { return t <= lo*1.001 })...)
	if ticks[len(ticks)-1] < hi*0.999 {
		ticks = append(ticks, hi)
	}
	return lo, hi, ticks
}

// fmtLog labels a log-axis tick without exponents: 0.01, 0.5, 20, 10000.
func fmtLog(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// rooflineFacts is a placed cell's figures in words.
func rooflineFacts(p roofPoint) string {
	x := p.c.Compute
	s := fmt.Sprintf("%s GFLOP/s at %s FLOPs/byte", fmtPlain(p.gflop), fmtPlain(p.ai))
	if t := results.CeilingShareText(x); t != "" {
		s += ", " + t
	}
	if x.AttainableGFLOPS != nil && *x.AttainableGFLOPS > 0 {
		s += fmt.Sprintf(", %.0f%% of the roofline (%s GFLOP/s)", 100*p.gflop / *x.AttainableGFLOPS, fmtPlain(*x.AttainableGFLOPS))
	}
	return s
}

func rooflineTip(p roofPoint) string {
	x := p.c.Compute
	t := p.c.Name + "\n" + rooflineFacts(p)
	if x.BytesPerRow != nil {
		t += fmt.Sprintf("\n%d FLOPs and %s bytes a row", x.FlopsPerRow, fmtPlain(*x.BytesPerRow))
	}
	return t
}

// label is a point's number to be placed beside it.
type label struct {
	x, y float64
	text string
}

// placeLabels writes each label right of its point. Points whose labels
// would collide (points of one intensity stack in a column) have their
// labels set in a column a little to the right, spread just enough not to
// overlap and centred on the points they name, each with a thin leader
// line back to its point; top and bottom bound the column.
func placeLabels(s *svg, ls []label, top, bottom float64) {
	const h, w, shift = 14.0, 28.0, 22.0
	sort.SliceStable(ls, func(a, b int) bool { return ls[a].x < ls[b].x })
	// Columns: labels whose points are within w of each other in x.
	for i := 0; i < len(ls); {
		j := i + 1
		for j < len(ls) && ls[j].x-ls[j-1].x < w {
			j++
		}
		col := slices.Clone(ls[i:j])
		sort.SliceStable(col, func(a, b int) bool { return col[a].y < col[b].y })
		ys := spread(col, h, top+h, bottom)
		crowded := false
		for k := range col {
			crowded = crowded || math.Abs(ys[k]-4-col[k].y) > 1
		}
		x := col[len(col)-1].x + 9
		for _, l := range col {
			x = math.Max(x, l.x+9)
		}
		if crowded {
			x += shift
		}
		for k, l := range col {
			if crowded {
				s.line(l.x+5, l.y, x-3, ys[k]-4, "leader")
			}
			s.text(x, ys[k], "start", "point-label", l.text)
		}
		i = j
	}
}

// spread returns label centres for targets sorted by y, at least h apart,
// each run of touching labels centred on its targets' mean (the usual 1-D
// label placement: merge overlapping blocks until none overlap), kept
// within [lo, hi] where there is room. A label's baseline is its centre + 4.
func spread(col []label, h, lo, hi float64) []float64 {
	type block struct {
		sum   float64 // of targets
		n     int
		first int
	}
	var blocks []block
	pos := func(b block) float64 { // top label's centre
		c := b.sum/float64(b.n) - h*float64(b.n-1)/2
		return math.Max(lo, math.Min(c, hi-h*float64(b.n-1)))
	}
	for i, l := range col {
		blocks = append(blocks, block{l.y, 1, i})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if pos(a)+h*float64(a.n) <= pos(b)+0.01 {
				break
			}
			blocks = append(blocks[:len(blocks)-2], block{a.sum + b.sum, a.n + b.n, a.first})
		}
	}
	ys := make([]float64, len(col))
	for _, b := range blocks {
		p := pos(b)
		for k := range b.n {
			ys[b.first+k] = p + h*float64(k) + 4
		}
	}
	return ys
}
