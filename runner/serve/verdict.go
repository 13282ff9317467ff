package serve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// Verdicts names, per workload, SLO and arrival (when load.arrival
// lists several), the strategy with the highest max
// sustainable QPS among the cells' SLO searches. A search's bracket is
// [its max, the lowest load above that failed twice); a strategy whose
// bracket overlaps the winner's is tied with it (unknown upper ends
// overlap everything above). None when the run searched nothing.
func Verdicts(cells []results.Cell) []results.ServingVerdict {
	groups := map[string][]*results.Cell{}
	var order []string
	for i := range cells {
		c := &cells[i]
		if c.Serving == nil || c.Serving.Search == nil || c.Serving.SLO == nil || !results.Measured(c.Status) {
			continue
		}
		g := group(c)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], c)
	}
	var out []results.ServingVerdict
	for _, g := range order {
		out = append(out, verdict(g, groups[g]))
	}
	return out
}

// verdict decides one group.
func verdict(g string, cells []*results.Cell) results.ServingVerdict {
	v := results.ServingVerdict{Group: g}
	sort.SliceStable(cells, func(i, j int) bool {
		return cells[i].Serving.Search.MaxSustainableQPS > cells[j].Serving.Search.MaxSustainableQPS
	})
	best := cells[0].Serving.Search
	if best.MaxSustainableQPS <= 0 {
		v.Reason = fmt.Sprintf("no strategy met the SLO at any load tried (%d searched)", len(cells))
		return v
	}
	v.Best, v.MaxQPS, v.UpperQPS = cells[0].Name, best.MaxSustainableQPS, best.UpperQPS
	v.MaxConcurrency, v.UpperConcurrency = best.MaxConcurrency, best.UpperConcurrency
	for _, c := range cells[1:] {
		s := c.Serving.Search
		if s.MaxSustainableQPS > 0 && (s.UpperQPS == 0 || s.UpperQPS > best.MaxSustainableQPS) {
			v.Tied = append(v.Tied, c.Name)
		}
	}
	return v
}

// group is a search cell's workload, request size and SLO in words.
func group(c *results.Cell) string {
	w := c.Workload.Model
	if i := strings.LastIndexAny(w, `/\`); i >= 0 {
		w = w[i+1:]
	}
	w = strings.TrimSuffix(w, ".onnx")
	if c.Workload.Kind == "heavy-task" {
		w = fmt.Sprintf("heavy-task cost=%d", c.Workload.Cost)
	}
	s := c.Serving
	rows := "1 row"
	if s.RequestRows != 1 {
		rows = fmt.Sprintf("%d rows", s.RequestRows)
	}
	loop := ""
	if a := c.Params.String("arrival"); a != "" { // load.arrival's list: a verdict per arrival
		loop = ", " + a + " arrivals"
	}
	if s.Concurrency > 0 || s.Search.MaxConcurrency > 0 { // its own verdict: throughput at the highest concurrency
		loop = ", closed loop"
	}
	return fmt.Sprintf("%s, %s per request%s, p%g ≤ %s", w, rows, loop, s.SLO.Percentile, results.Dur(s.SLO.LatencySeconds))
}
