package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

func TestServingCharts(t *testing.T) {
	lat := results.Latency{P50: 0.001, P99: 0.004, Listed: []results.Percentile{{P: 90, Seconds: 0.002}, {P: 99.9, Seconds: 0.008}}, Max: 0.01}
	slo := &results.SLO{Percentile: 99, LatencySeconds: 0.005, Met: true}
	run := &results.Run{Schema: results.Schema, Experiment: results.Experiment{Name: "serving"}, Cells: []results.Cell{
		{Name: "sequential/batch_size=1/qps=100", Strategy: "sequential", Status: results.StatusOK,
			Serving: &results.Serving{TargetQPS: 100, Latency: lat, SLO: slo}},
		{Name: "sequential/batch_size=1/slo_search", Strategy: "sequential", Status: results.StatusOK,
			Serving: &results.Serving{TargetQPS: 300, Latency: lat, SLO: slo, Search: &results.Search{MaxSustainableQPS: 300, Steps: []results.SearchStep{
				{QPS: 100, P99Seconds: 0.002, Passed: true}, {QPS: 200, P99Seconds: 0.003, Passed: true},
				{QPS: 400, P99Seconds: 0.05, FailedRule: "early_stopping"}, {QPS: 300, P99Seconds: 0.004, Passed: true}}}}},
	}}
	var b bytes.Buffer
	if err := HTML(run, &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="serving-hockey"`, `id="serving-max-qps"`, `id="serving-percentiles"`, "SLO 5ms", "at 100 requests/s",
		// A server run's empty offline charts say why they are empty.
		"server cells have no speedup", "server cells are not sampled for memory"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
	// A closed loop is drawn against its clients, never at 0 requests/s
	// on the offered-load chart.
	closedRun := *run
	closedRun.Cells = append(append([]results.Cell(nil), run.Cells...), results.Cell{Name: "sequential/batch_size=1/concurrency=4", Strategy: "sequential",
		Status: results.StatusOK, Serving: &results.Serving{Concurrency: 4, AchievedQPS: 900, Latency: lat, SLO: slo}})
	b.Reset()
	if err := HTML(&closedRun, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, `id="serving-closed"`) || !strings.Contains(page, "at 4 clients") {
		t.Error("report lacks the closed loop's p99-vs-clients chart")
	}
	open := page[strings.Index(page, `id="serving-hockey"`):strings.Index(page, `id="serving-closed"`)]
	if strings.Contains(open, "at 0 requests/s") {
		t.Error("the offered-load chart draws a closed loop at 0 requests/s")
	}
	// The serving table: goodput (per second and share) and saturation
	// with its reason, from the metric list; a staged load's stages.
	run.Cells = append(run.Cells, results.Cell{Name: "sequential/batch_size=1/stages=2", Strategy: "sequential", Status: results.StatusOK,
		Serving: &results.Serving{TargetQPS: 300, Latency: lat, Saturated: true, SaturatedReason: "the queue kept growing",
			SLO: &results.SLO{GoodputQPS: 123.4, GoodFraction: 0.456}, Stages: []results.Stage{
				{Stage: 1, FromQPS: 100, ToQPS: 100, OfferedQPS: 99, Latency: lat, SLO: &results.SLO{GoodputQPS: 98.7, GoodFraction: 0.997}},
				{Stage: 2, FromQPS: 100, ToQPS: 500, OfferedQPS: 290, Latency: lat, Saturated: true, SaturatedReason: "achieved 200 requests/s of 290 offered",
					SLO: &results.SLO{GoodputQPS: 45.6, GoodFraction: 0.25}}}}})
	b.Reset()
	if err := HTML(run, &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<th>goodput/s</th>", "<th>good</th>", "<th>saturated</th>", "123.4", "45.6%", "YES <span class=\"ci\">the queue kept growing</span>",
		"sequential/batch_size=1/stages=2, stage by stage</h3>", "stage 2: 100→500/<wbr>s", "98.7", "99.7%", "achieved 200 requests/s of 290 offered",
		// The hockey chart: the staged load a line of its own, one point a
		// stage at its offered rate, numbered, named as stages.
		"sequential/batch_size=1, stages: stage 1 (100/s), offered 99 requests/s", "sequential/batch_size=1, stages: stage 2 (100→500/s), offered 290 requests/s",
		`class="point-label" style="fill: #0072B2">2</text>`, "sequential/batch_size=1, stages (numbered)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if strings.Contains(b.String(), "stages at 300 requests/s") {
		t.Error("the staged load drew a point for the whole load at its target rate")
	}
	// The percentile chart of a staged run says it is the whole load's.
	staged := &results.Run{Cells: run.Cells[2:]}
	b.Reset()
	if err := HTML(staged, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "latency from scheduled arrival over the whole staged load (2 stages; each stage") || strings.Contains(b.String(), "at 300 requests/s") {
		t.Error("the percentile chart of a staged load does not say it is the whole load's")
	}
	run.Cells = run.Cells[:2]
	// An offline run has no serving section.
	run.Cells[0].Serving, run.Cells[1].Serving = nil, nil
	b.Reset()
	if err := HTML(run, &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="serving"`) {
		t.Error("an offline run got a serving section")
	}
}

// TestMarkerColourIsNoStrategys: the SLO (and every marker line) is drawn
// in a colour no strategy gets, so it is never read as a series.
func TestMarkerColourIsNoStrategys(t *testing.T) {
	css := pageSource
	i := strings.Index(css, "svg .marker { stroke: ")
	if i < 0 {
		t.Fatal("no svg .marker rule in the template")
	}
	colour := strings.Fields(css[i+len("svg .marker { stroke: "):])[0]
	colour = strings.TrimSuffix(colour, ";")
	if colour != colMarker {
		t.Errorf("svg .marker is %s, colMarker %s: the legend swatches would not match the lines", colour, colMarker)
	}
	for _, p := range append(palette, colRSS, colPSS, colCPU) {
		if strings.EqualFold(p, colour) {
			t.Fatalf("the marker colour %s is a series colour", colour)
		}
	}
}

// TestStageLabelsJoin: stages whose points land together share one label
// ("1, 3"), others keep their own.
func TestStageLabelsJoin(t *testing.T) {
	var l []stageLabel
	for i, p := range [][2]float64{{100, 300}, {400, 120}, {105, 296}} {
		l = addStageLabel(l, p[0], p[1], i+1, "#000")
	}
	if len(l) != 2 || l[0].text != "1, 3" || l[1].text != "2" {
		t.Errorf("labels %+v, want \"1, 3\" and \"2\"", l)
	}
	// Another series' label at the same point moves to a free corner.
	s := &svg{}
	drawStageLabels(s, []stageLabel{{100, 300, "1", "#111"}, {100, 300, "4", "#222"}}, 0, math.NaN())
	if got := s.b.String(); !strings.Contains(got, `<text x="106.0" y="293.0" text-anchor="start" class="point-label" style="fill: #111">1</text>`) ||
		!strings.Contains(got, `<text x="106.0" y="316.0" text-anchor="start" class="point-label" style="fill: #222">4</text>`) {
		t.Errorf("labels drawn over each other: %s", got)
	}
}
