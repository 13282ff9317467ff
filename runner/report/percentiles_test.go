package report

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestReportFollowsPercentiles: a run with percentiles [50, 99.99] has
// exactly those as the summary table's latency columns and as the serving
// chart's percentile ticks (then max), and names the list in its settings.
func TestReportFollowsPercentiles(t *testing.T) {
	run, err := results.ReadJSON(filepath.Join("..", "results", "testdata", "golden", "percentiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := HTML(run, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	find := func(re string) []string {
		var out []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(page, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
		return out
	}
	if got := find(`<th>(p[0-9.]+)</th>`); !slices.Equal(got, []string{"p50", "p99.99"}) {
		t.Errorf("summary table latency columns %v", got)
	}
	if got := find(`class="tick">(p[0-9.]+|max)</text>`); !slices.Equal(got, []string{"p50", "p99.99", "max"}) {
		t.Errorf("percentile chart ticks %v", got)
	}
	if got := find(`<dt>latency percentiles</dt><dd>([^<]*)</dd>`); !slices.Equal(got, []string{"p50, p99.99"}) {
		t.Errorf("settings name the percentiles as %v", got)
	}
}
