package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/internal/pqtest"
)

// latencyLabels are the percentile labels of an output: its table
// headers ("p99.99"), flat columns ("latency_p99_99_seconds") or
// bench.txt units ("p99.99-ns/batch"), as percentile names, each once.
func latencyLabels(words []string) []string {
	var out []string
	for _, w := range words {
		w = strings.Trim(w, "|")
		switch {
		case strings.HasPrefix(w, "latency_p") && strings.HasSuffix(w, "_seconds"):
			w = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(w, "latency_"), "_seconds"), "_", ".")
		case strings.HasSuffix(w, "-ns/batch"):
			w = strings.TrimSuffix(w, "-ns/batch")
		}
		if _, ok := percentileKey(w); ok && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// headerWords are the words of an output's header lines: the tables'
// (the lines naming the cell column), CSV's first, bench.txt's Unit lines;
// the serving table's queueing and service p99 are not the run's list.
func headerWords(text string) []string {
	var words []string
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || (len(f) > 1 && (f[0] == "cell" || f[1] == "cell" || f[0] == "Unit")) {
			ws := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' || r == '|' })
			for j, w := range ws { // "queue p99", "service p99": fixed columns of their own
				if j == 0 || (ws[j-1] != "queue" && ws[j-1] != "service") {
					words = append(words, w)
				}
			}
		}
	}
	return words
}

// TestPercentilesFollowEveryFormat: a run with percentiles [50, 99.99]
// lists exactly those in the table, CSV, Parquet, bench.txt and Markdown
// (the serving table too); results.json keeps its list and, in each
// latency object, p50 and p99 beside p99.99 (they are always measured).
func TestPercentilesFollowEveryFormat(t *testing.T) {
	run, err := ReadJSON(filepath.Join("testdata", "golden", "percentiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(run.Percentiles(), []float64{50, 99.99}) {
		t.Fatalf("percentiles %v", run.Percentiles())
	}
	want := []string{"p50", "p99.99"}
	for name, encode := range map[string]func(*bytes.Buffer) error{
		"table":     func(b *bytes.Buffer) error { return WriteTable(run, b) },
		"csv":       func(b *bytes.Buffer) error { return EncodeCSV(run, b) },
		"bench.txt": func(b *bytes.Buffer) error { return EncodeBenchfmt(run, b) },
		"md":        func(b *bytes.Buffer) error { return EncodeMarkdown(run, b) },
	} {
		var b bytes.Buffer
		if err := encode(&b); err != nil {
			t.Fatal(err)
		}
		if got := latencyLabels(headerWords(b.String())); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", name, got, want)
		}
	}
	if got := latencyLabels(parquetColumns(t, run)); !slices.Equal(got, want) {
		t.Errorf("parquet lists %v, want %v", got, want)
	}
	var b bytes.Buffer
	if err := EncodeBenchfmt(run, &b); err != nil || !strings.Contains(b.String(), "9e+06 p99.99-ns/batch") {
		t.Errorf("bench.txt has no per-repetition p99.99 (%v)", err)
	}
	var js bytes.Buffer
	if err := EncodeJSON(run, &js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Settings Settings `json:"settings"`
		Cells    []struct {
			Latency map[string]float64 `json:"latency_seconds"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Settings.Percentiles, []float64{50, 99.99}) {
		t.Errorf("results.json settings.percentiles %v", back.Settings.Percentiles)
	}
	if keys := slices.Sorted(maps.Keys(back.Cells[0].Latency)); fmt.Sprint(keys) != "[max mean p50 p99 p99.99]" {
		t.Errorf("results.json latency keys %v", keys)
	}
	if c := run.Cells[0]; c.Latency.At(99.99) != 0.009 || c.Repetitions[0].Latency["p99.99"] != 0.009 {
		t.Errorf("p99.99 %v, repetition's %v", c.Latency.At(99.99), c.Repetitions[0].Latency)
	}
}

func parquetColumns(t *testing.T, run *Run) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeParquet(run, &buf); err != nil {
		t.Fatal(err)
	}
	tbl := pqtest.ReadBytes(t, buf.Bytes())
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	return names
}

// TestLatencyReadsOldAndNewJSON: the fixed object of older files (p999 for
// p99.9) and the keyed one read into the same figures, and a latency
// writes back what it read.
func TestLatencyReadsOldAndNewJSON(t *testing.T) {
	for _, src := range []string{
		`{"mean":1,"p50":2,"p90":3,"p99":4,"p999":5,"max":6}`,
		`{"mean":1,"p50":2,"p90":3,"p99":4,"p99.9":5,"max":6}`,
	} {
		var l Latency
		if err := json.Unmarshal([]byte(src), &l); err != nil {
			t.Fatal(err)
		}
		if l.Mean != 1 || l.At(50) != 2 || l.At(90) != 3 || l.At(99) != 4 || l.At(99.9) != 5 || l.Max != 6 || l.At(99.99) != 0 {
			t.Fatalf("%s read as %+v", src, l)
		}
		out, err := json.Marshal(l)
		if err != nil || string(out) != `{"mean":1,"p50":2,"p90":3,"p99":4,"p99.9":5,"max":6}` {
			t.Fatalf("%s wrote back %s (%v)", src, out, err)
		}
	}
	var l Latency
	if err := json.Unmarshal([]byte(`{"p50":"fast"}`), &l); err == nil {
		t.Fatal("a latency that is not a number read without an error")
	}
}

func TestPercentileNames(t *testing.T) {
	for p, want := range map[float64][2]string{
		50: {"p50", "latency_p50_seconds"}, 99.9: {"p99.9", "latency_p99_9_seconds"}, 99.99: {"p99.99", "latency_p99_99_seconds"}, 12.5: {"p12.5", "latency_p12_5_seconds"},
	} {
		if got := [2]string{PercentileName(p), percentileColumn(p)}; got != want {
			t.Errorf("%g: %v, want %v", p, got, want)
		}
	}
	if p, ok := percentileKey("p999"); !ok || p != 99.9 {
		t.Errorf("p999 reads as %v %v", p, ok)
	}
	for _, k := range []string{"mean", "p", "p100", "p0", "px"} {
		if _, ok := percentileKey(k); ok {
			t.Errorf("%q read as a percentile", k)
		}
	}
}

func TestCheckPercentiles(t *testing.T) {
	if err := CheckPercentiles(DefaultPercentiles); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ps   []float64
		want string
	}{
		{nil, "got 0"},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, "got 9"},
		{[]float64{50, 100}, "100 is out of range"},
		{[]float64{0}, "0 is out of range"},
		{[]float64{99, 50}, "50 after 99"},
		{[]float64{50, 50}, "50 after 50"},
	} {
		err := CheckPercentiles(tc.ps)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", tc.ps, err, tc.want)
		}
	}
}
