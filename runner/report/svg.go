package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// chartW is every chart's width in SVG units: about the page's content width,
// so that text draws near its CSS size.
const chartW = 1160.0

// svg builds one inline SVG element. Every piece of text goes through
// html.EscapeString, which is what makes returning template.HTML safe.
type svg struct {
	b    strings.Builder
	w, h float64
}

func newSVG(id, label string, w, h float64) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg id="%s" class="chart" role="img" aria-label="%s" viewBox="0 0 %g %g" width="%g" height="%g">`,
		esc(id), esc(label), w, h, w, h)
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func (s *svg) raw(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// text draws a label; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, class, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(txt))
}

func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`, x1, y1, x2, y2, class)
}

// rect draws a bar with a native tooltip.
func (s *svg) rect(x, y, w, h float64, fill, title string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="2"><title>%s</title></rect>`,
		x, y, math.Max(w, 0), math.Max(h, 0), fill, esc(title))
}

func (s *svg) circle(x, y, r float64, fill, stroke, title string) {
	fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s" stroke-width="1.5"><title>%s</title></circle>`,
		x, y, r, fill, stroke, esc(title))
}

// markerShapes tell a strategy's series apart where they share a colour.
var markerShapes = []string{"circle", "square", "triangle", "diamond"}

// marker draws a point of the given shape (markerShapes) with a tooltip.
func (s *svg) marker(shape string, x, y, r float64, fill, title string) {
	var el string
	switch shape {
	case "square":
		el = fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"`, x-r*0.85, y-r*0.85, 1.7*r, 1.7*r)
	case "triangle":
		el = fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f"`, x, y-1.2*r, x+1.1*r, y+0.8*r, x-1.1*r, y+0.8*r)
	case "diamond":
		el = fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"`, x, y-1.25*r, x+r, y, x, y+1.25*r, x-r, y)
	default:
		el = fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="%.1f"`, x, y, r)
	}
	fmt.Fprintf(&s.b, `%s fill="%s" stroke="#fff" stroke-width="1.5"><title>%s</title>%s`, el, fill, esc(title), closeTag(el))
}

// closeTag closes the element el opens ("<rect …" → "</rect>").
func closeTag(el string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(el, "<"), " ")
	return "</" + name + ">"
}

// errorBar draws a vertical interval from y1 to y2 at x with end caps
// (nothing where the two meet: no interval).
func (s *svg) errorBar(x, y1, y2 float64, color string) {
	if math.Abs(y1-y2) < 0.5 {
		return
	}
	fmt.Fprintf(&s.b, `<path d="M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f" stroke="%s" stroke-width="1.5" fill="none" class="error-bar"/>`,
		x, y1, y2, x-4, y1, x+4, x-4, y2, x+4, color)
}

// polyline draws a series; dash is "" for solid.
func (s *svg) polyline(pts [][2]float64, color string, width float64, dash string) {
	if len(pts) == 0 {
		return
	}
	var p strings.Builder
	for i, pt := range pts {
		if i > 0 {
			p.WriteByte(' ')
		}
		fmt.Fprintf(&p, "%.1f,%.1f", pt[0], pt[1])
	}
	d := ""
	if dash != "" {
		d = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%g"%s stroke-linejoin="round"/>`, p.String(), color, width, d)
}

func (s *svg) html() template.HTML {
	s.b.WriteString("</svg>")
	return template.HTML(s.b.String())
}

// empty is the chart that stands in when there is nothing to plot, so the
// page keeps its shape and the reader learns why.
func empty(id, title, why string) template.HTML {
	s := newSVG(id, title, chartW, 120)
	s.raw(`<rect x="1" y="1" width="%g" height="118" class="placeholder" rx="6"/>`, chartW-2)
	s.text(chartW/2, 66, "middle", "muted", why)
	return s.html()
}
