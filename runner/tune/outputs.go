package tune

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Files a finished tune writes beside its checkpoint.
const (
	ReportFile  = "tune-report.html"
	SnippetFile = "winner-session-options.go.txt" // not .go: the folder may sit inside a Go module
)

// WinnerFile is the re-runnable config of the recommendation for objective.
func WinnerFile(objective string) string {
	return "winner-" + strings.ReplaceAll(objective, "_", "-") + ".yaml"
}

// File is one of a finished tune's files: its name in the tune's folder
// and its bytes.
type File struct {
	Name string
	Data []byte
}

// Outputs are the files a finished tune ships, made from its state alone
// (tune.json with its Origin), so `ortbench report` remakes them byte for
// byte: the HTML report, the points as CSV and Parquet, a re-runnable
// config per recommendation and the Go session options of the climb
// objective's recommendation. reg is the strategies' registry (the
// options are a point's config's).
func Outputs(reg strategy.Registry, st *State) ([]File, error) {
	if st.Result == nil {
		return nil, fmt.Errorf("the tune has no result yet (interrupted? resume it with --resume)")
	}
	o := st.Origin
	if o == nil {
		return nil, fmt.Errorf("no origin (the config its files are made of): written by an older ortbench; resume the tune once (ortbench tune -c CONFIG --resume DIR, which measures no finished step again) to add it")
	}
	var html, csv, pq bytes.Buffer
	if err := Report(&html, "ortbench tune — "+o.Name, st); err != nil {
		return nil, err
	}
	table := PointsTable(st)
	if err := table.WriteCSV(&csv); err != nil {
		return nil, err
	}
	if err := table.WriteParquet(&pq); err != nil {
		return nil, err
	}
	files := []File{{ReportFile, html.Bytes()}, {PointsCSV, csv.Bytes()}, {PointsParquet, pq.Bytes()}}
	for _, rec := range st.Result.Recommendations {
		data, err := WinnerConfig(o, rec, st.Result)
		if err != nil {
			return nil, err
		}
		files = append(files, File{WinnerFile(rec.Objective), data})
		if rec.Objective == st.Result.Objective {
			src, err := SessionSnippet(reg, o, rec)
			if err != nil {
				return nil, err
			}
			files = append(files, File{SnippetFile, src})
		}
	}
	return files, nil
}

// WriteOutputs writes a finished tune's Outputs into dir. It returns the
// paths.
func WriteOutputs(dir string, reg strategy.Registry, st *State) ([]string, error) {
	files, err := Outputs(reg, st)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := results.WriteFileAtomic(p, f.Data); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// FormatFile is the file of a tune that report's --format names.
func FormatFile(format string) (string, error) {
	switch format {
	case "html":
		return ReportFile, nil
	case "csv":
		return PointsCSV, nil
	case "parquet":
		return PointsParquet, nil
	}
	return "", fmt.Errorf("unknown format %q for a tune (valid: csv, html, parquet; without --format and -o, every file of the tune)", format)
}

// Summary prints the result for a terminal: the search, a line per
// recommendation with its interval and ties, the front, the why lines.
func Summary(w io.Writer, st *State) {
	r := st.Result
	fmt.Fprintf(w, "searched %d of %d points (%.0f%% of the grid) in %d steps, %.0f s of measuring; stopped: %s\n",
		r.Visited, r.Grid, r.VisitedPct, r.Steps, r.Seconds, r.StopReason)
	fmt.Fprintf(w, "constraints: %s\n", r.Constraints)
	if r.Infeasible != "" {
		fmt.Fprintf(w, "no recommendation: %s\n", r.Infeasible)
	}
	if r.Server {
		fmt.Fprintf(w, "server load, SLO %s: each point served open-loop, then searched for its highest QPS within the SLO\n", r.SLO)
	}
	for _, rec := range r.Recommendations {
		fmt.Fprintf(w, "best %-10s %s: %s (%s)", rec.Objective, rec.Point, valueText(r, rec), intervalText(r, rec, "–"))
		if len(rec.Tied) > 0 {
			var ts []string
			for _, p := range rec.Tied {
				ts = append(ts, p.String())
			}
			fmt.Fprintf(w, "; tied with %s", strings.Join(ts, "; "))
		}
		if rec.Note != "" {
			fmt.Fprintf(w, " [%s]", rec.Note)
		}
		fmt.Fprintln(w)
	}
	if len(r.Front) > 0 && r.Server {
		fmt.Fprintln(w, "Pareto front (max QPS within the SLO, p99 at the fixed load, cores busy):")
		for _, p := range r.Front {
			fmt.Fprintf(w, "  %-48s %9s req/s  p99 %9s  %.2f cores\n", p.Point, results.Num(p.MaxQPS), results.Dur(p.P99), p.CoresBusy)
		}
	} else if len(r.Front) > 0 {
		fmt.Fprintln(w, "Pareto front (throughput, p99, peak RSS):")
		for _, p := range r.Front {
			fmt.Fprintf(w, "  %-48s %9s rows/s  p99 %9s  %s\n", p.Point, results.Num(p.RowsPerSecond), results.Dur(p.P99), results.Bytes(p.PeakRSS))
		}
	}
	if len(r.Why) > 0 {
		fmt.Fprintln(w, "why:")
		for _, l := range r.Why {
			fmt.Fprintf(w, "  - %s\n", l)
		}
	}
}

// valueText is a recommendation's figure in words.
func valueText(r *Result, rec Recommendation) string {
	switch {
	case rec.Objective == ObjectiveP99 && r.Server:
		return "p99 " + results.Dur(rec.Value) + " (at the fixed load)"
	case rec.Objective == ObjectiveP99:
		return "p99 " + results.Dur(rec.Value) + " (median of the rounds' p99)"
	case rec.Objective == ObjectivePerCore && r.Server:
		return results.Num(rec.Value) + " req/s per core busy, within the SLO"
	case rec.Objective == ObjectivePerCore:
		return results.Num(rec.Value) + " rows/s per core"
	case rec.Objective == ObjectiveMaxQPS:
		return results.Num(rec.Value) + " req/s within " + r.SLO
	case r.Server:
		return results.Num(rec.Value) + " rows/s served at most (any load)"
	}
	return results.Num(rec.Value) + " rows/s"
}

// intervalText is a recommendation's interval: the 95% interval of its
// rounds, or under server load for max QPS the SLO search's bracket.
func intervalText(r *Result, rec Recommendation, dash string) string {
	bracket := r.Server && (rec.Objective == ObjectiveMaxQPS || rec.Objective == ObjectivePerCore)
	switch {
	case bracket && rec.Hi > 0:
		return "the search's bracket " + results.Num(rec.Lo) + dash + results.Num(rec.Hi)
	case bracket:
		return "no load failed above it"
	case rec.Hi <= 0:
		return "95% no interval"
	case rec.Objective == ObjectiveP99:
		return "95% " + results.Dur(rec.Lo) + dash + results.Dur(rec.Hi)
	}
	return "95% " + results.Num(rec.Lo) + dash + results.Num(rec.Hi)
}
