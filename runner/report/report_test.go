package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/ortbench/ortbench/runner/results"
)

var chartIDs = []string{"chart-speedup", "chart-pareto", "chart-memory", "chart-cpu", "chart-timeline"}

func render(t *testing.T, run *results.Run) string {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(run, &buf); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("ORTBENCH_REPORT_OUT"); out != "" && t.Name() == "TestHTMLFull" {
		os.WriteFile(out, buf.Bytes(), 0o644)
	}
	return buf.String()
}

// void elements have no end tag.
var void = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkWellFormed walks the tokens and checks every element is closed in
// order, and collects the ids it saw.
func checkWellFormed(t *testing.T, doc string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	z := html.NewTokenizer(strings.NewReader(doc))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("unclosed elements at end: %v", stack)
			}
			return ids
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if a.Key == "id" {
					if ids[a.Val] {
						t.Errorf("duplicate id %q", a.Val)
					}
					ids[a.Val] = true
				}
				if (a.Key == "src" || a.Key == "href") && a.Val != "" {
					t.Errorf("<%s %s=%q> loads a resource", tok.Data, a.Key, a.Val)
				}
			}
			if tt == html.StartTagToken && !void[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("</%s> does not close %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func checkOffline(t *testing.T, doc string) {
	t.Helper()
	for _, bad := range []string{"http://", "https://", "<script src", "@import", "url("} {
		if strings.Contains(doc, bad) {
			i := strings.Index(doc, bad)
			t.Errorf("report references %q: …%s…", bad, doc[max(0, i-60):min(len(doc), i+60)])
		}
	}
	if _, err := html.Parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
}

func TestHTMLFull(t *testing.T) {
	run := sampleRun()
	doc := render(t, run)
	ids := checkWellFormed(t, doc)
	checkOffline(t, doc)
	for _, id := range chartIDs {
		if !ids[id] {
			t.Errorf("chart %q missing", id)
		}
	}
	for _, want := range []string{
		`<span class="badge failed">failed</span>`,
		"verification failed: 12 rows differ",
		`<span class="badge skipped">skipped</span>`,
		`<span class="badge unstable">unstable</span>`,
		"NO (12 mismatches)",
		"AMD EPYC 7B13",
		"Pareto-best",
		"ideal (y = x)",
		"go-vs-ort-threads",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Every cell is in the table, ok or not.
	plain := strings.ReplaceAll(doc, "<wbr>", "")
	for _, c := range run.Cells {
		if !strings.Contains(plain, html.EscapeString(c.Name)) {
			t.Errorf("cell %s missing", c.Name)
		}
	}
}

func TestHTMLEdgeCases(t *testing.T) {
	one := sampleRun()
	one.Cells = one.Cells[:1]
	allFailed := sampleRun()
	for i := range allFailed.Cells {
		allFailed.Cells[i].Status = results.StatusFailed
		allFailed.Cells[i].Error = "boom <script>alert(1)</script>"
	}
	huge := sampleRun()
	for i := range huge.Cells {
		huge.Cells[i].RowsPerSecond *= float64(int(1) << (3 * i)) // spans far more than 100×
		huge.Cells[i].Latency.P99 /= float64(int(1) << i)
	}
	tiny := sampleRun()
	for i := range tiny.Cells {
		tiny.Cells[i].RowsPerSecond *= 1e-6
		tiny.Cells[i].Latency.P99 *= 1e4
		tiny.Cells[i].Memory = results.Memory{}
		tiny.Cells[i].Timeline = nil
	}
	for name, run := range map[string]*results.Run{
		"one cell":  one,
		"no ok":     allFailed,
		"no cells":  {Schema: results.Schema, Experiment: results.Experiment{Name: "empty"}},
		"huge":      huge,
		"tiny":      tiny,
		"zero vals": {Schema: results.Schema, Cells: []results.Cell{{Name: "z", Status: results.StatusOK}}},
	} {
		t.Run(name, func(t *testing.T) {
			doc := render(t, run)
			ids := checkWellFormed(t, doc)
			checkOffline(t, doc)
			for _, id := range chartIDs {
				if !ids[id] {
					t.Errorf("chart %q missing", id)
				}
			}
			for _, bad := range []string{"NaN", "Inf", "<script>"} {
				if strings.Contains(doc, bad) {
					t.Errorf("report contains %q", bad)
				}
			}
		})
	}
}

func TestParetoCells(t *testing.T) {
	mk := func(rps, p99 float64) *results.Cell {
		return &results.Cell{RowsPerSecond: rps, Latency: results.Latency{P99: p99}}
	}
	cs := []*results.Cell{mk(100, 1), mk(200, 2), mk(150, 3), mk(200, 2.5), mk(50, 0.5)}
	got := paretoCells(cs)
	want := []bool{true, true, false, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cell %d: pareto %v, want %v", i, got[i], want[i])
		}
	}
}

func TestFormat(t *testing.T) {
	if e := Format(); e.File != "report.html" || e.Encode == nil {
		t.Fatalf("html format: %+v", e)
	}
}

// TestSpeedupChartMarksEachCell: the paired interval is an error bar, the
// variants of one strategy (spinning on/off) get their own series and
// marker shape, and a hybrid sits at the cores it asked for.
func TestSpeedupChartMarksEachCell(t *testing.T) {
	iv := &results.Summary{Median: 1.5, Lo: 1.4, Hi: 1.6, Confidence: 0.95}
	cell := func(name, strategy string, ps ...results.Param) results.Cell {
		return results.Cell{Name: name, Strategy: strategy, Status: results.StatusOK, Params: ps, CoresUsed: 2,
			SpeedupBase: "sequential/batch_size=64", Speedup: 1.5, SpeedupInterval: iv}
	}
	run := &results.Run{Schema: results.Schema, Cells: []results.Cell{
		cell("intra-op/threads=2/spinning=false", "intra-op", results.Param{Key: "threads", Value: int64(2)}, results.Param{Key: "spinning", Value: false}),
		cell("intra-op/threads=2/spinning=true", "intra-op", results.Param{Key: "threads", Value: int64(2)}, results.Param{Key: "spinning", Value: true}),
		cell("hybrid/workers=2/threads=2", "hybrid", results.Param{Key: "workers", Value: int64(2)}, results.Param{Key: "threads", Value: int64(2)}),
	}}
	svg := string(speedupChart(run, strategyColors(run)))
	for _, want := range []string{"intra-op spinning=false", "intra-op spinning=true", "<rect", "class=\"error-bar\"", "paired 95% interval 1.40–1.60×", "on 4 cores asked for"} {
		if !strings.Contains(svg, want) {
			t.Errorf("speedup chart lacks %q", want)
		}
	}
	if n := strings.Count(svg, `class="error-bar"`); n != 3 {
		t.Errorf("%d error bars, want one per cell (3)", n)
	}
}
