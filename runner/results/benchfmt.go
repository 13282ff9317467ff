package results

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Units written to bench.txt, with the direction benchstat should read them in.
const (
	UnitRowsPerSec = "rows/s"
	UnitNsPerRow   = "ns/row"
	UnitPeakRSS    = "peak-RSS-B"
	// A server cell's goodput (requests/s within the SLO), its share of
	// all requests, and 1 when it was saturated (0 when not).
	UnitGoodput      = "goodput-req/s"
	UnitGoodFraction = "good-fraction"
	UnitSaturated    = "saturated"
)

// BenchName is a cell's Go benchmark name, made from its parameter list:
// "BenchmarkInfer/model=mlp_large_digits/strategy=worker-pool/workers=2/spinning=false/batch_size=64"
// (heavy task: "BenchmarkHeavyTask/cost=…/strategy=…/…"). Every parameter of
// the cell is in it, so two cells never share a name.
func BenchName(c *Cell) string {
	var b strings.Builder
	if c.Workload.Kind == "heavy-task" {
		b.WriteString("BenchmarkHeavyTask")
		fmt.Fprintf(&b, "/cost=%d", c.Workload.Cost)
	} else {
		b.WriteString("BenchmarkInfer")
		fmt.Fprintf(&b, "/model=%s", nameValue(modelBase(c.Workload.Model)))
	}
	fmt.Fprintf(&b, "/strategy=%s", nameValue(c.Strategy))
	for _, p := range c.Params {
		fmt.Fprintf(&b, "/%s=%s", nameValue(p.Key), nameValue(FormatValue(p.Value)))
	}
	return b.String()
}

// modelBase turns "training/models/mlp_large_digits.onnx" into "mlp_large_digits".
func modelBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return strings.TrimSuffix(p, ".onnx")
}

// nameValue keeps a name part free of the characters the format gives meaning
// to: white space ends the name, '/' separates parts and '=' separates a key.
func nameValue(s string) string {
	if s == "" {
		return "none"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '=' || r == ' ' || r == '\t' || r < ' ':
			return '_'
		}
		return r
	}, s)
}

// EncodeBenchfmt writes the run in the Go benchmark format (bench.txt): file
// configuration lines, unit metadata, then one result line per measured
// repetition of each cell that has a usable measurement, so that
// `benchstat bench.txt` (and `-col /strategy`) summarise it directly. A cell
// with no per-repetition figures contributes one line from its summary.
// Failed and skipped cells are left out: their numbers mean nothing.
// Unstable cells are kept (benchstat shows their spread itself).
func EncodeBenchfmt(run *Run, w io.Writer) error {
	bw := benchfmt.NewWriter(w)
	benched := benchMetrics(run)
	for _, m := range benched {
		for _, u := range m.Bench {
			um := &benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u.Unit, Key: "better"}, OrigUnit: u.Unit, Value: u.Better.Word()}
			if err := bw.Write(um); err != nil {
				return err
			}
		}
	}
	env := run.Environment
	config := [][2]string{
		{"goos", osName(env)},
		{"goarch", env.Arch},
		{"cpu", env.CPUModel},
		{"pkg", "ortbench"},
		{"ort", env.OnnxruntimeVersion},
		{"go", env.GoVersion},
		{"experiment", run.Experiment.Name},
		{"config-sha256", run.Experiment.ConfigSHA256},
		{"commit", env.GitCommit},
	}
	for i := range run.Cells {
		c := &run.Cells[i]
		if !Measured(c.Status) {
			continue
		}
		res := &benchfmt.Result{}
		for _, kv := range config {
			if kv[1] != "" {
				// File configuration ("key: value" lines), not SetConfig's internal kind.
				res.Config = append(res.Config, benchfmt.Config{Key: kv[0], Value: []byte(oneLine(kv[1])), File: true})
			}
		}
		name := BenchName(c)
		if env.GOMAXPROCS > 0 {
			name += "-" + strconv.Itoa(env.GOMAXPROCS)
		}
		// benchfmt.Name holds the name without its "Benchmark" prefix; the writer adds it.
		res.Name = benchfmt.Name(strings.TrimPrefix(name, "Benchmark"))
		if s := c.Serving; s != nil && s.Saturated {
			// benchfmt ignores a line that is neither config nor result:
			// the reason, which a value cannot hold, goes beside the numbers.
			if _, err := fmt.Fprintf(w, "# %s: saturated: %s\n", name, oneLine(s.SaturatedReason)); err != nil {
				return err
			}
		}
		if err := writeBenchLines(bw, res, c, benched); err != nil {
			return err
		}
	}
	return nil
}

// writeBenchLines writes one line per repetition of c (one for a cell
// without repetitions) with every bench metric's reading in its units; a
// repetition without throughput (the first bench metric) has no line, a
// metric without a reading is left off its line.
func writeBenchLines(bw *benchfmt.Writer, res *benchfmt.Result, c *Cell, benched []Metric) error {
	readings := make([][]float64, len(benched))
	for i, m := range benched {
		readings[i] = m.Readings(c)
	}
	passes := func(i int) int {
		if i < len(c.Repetitions) {
			return c.Repetitions[i].Passes
		}
		return 1
	}
	for i := range readings[0] {
		if readings[0][i] <= 0 {
			continue
		}
		// Iterations are the rows this repetition processed.
		res.Iters = max(c.Workload.Rows*max(passes(i), 1), 1)
		res.Values = res.Values[:0]
		for j, m := range benched {
			if i >= len(readings[j]) {
				continue // a metric read from the cell alone
			}
			v := readings[j][i]
			if v < 0 || (v == 0 && !m.Bench[0].Zero) {
				continue
			}
			for _, u := range m.Bench {
				x := v
				if u.Convert != nil {
					x = u.Convert(v)
				}
				res.Values = append(res.Values, benchfmt.Value{Value: x, Unit: u.Unit})
			}
		}
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}

// benchMetrics are the metrics bench.txt writes, throughput first.
func benchMetrics(run *Run) []Metric {
	var ms []Metric
	for _, m := range Metrics(run) {
		if len(m.Bench) > 0 {
			ms = append(ms, m)
		}
	}
	return ms
}

// PercentileUnit is a latency percentile's bench.txt unit: "p99.9-ns/batch".
func PercentileUnit(p float64) string { return PercentileName(p) + "-ns/batch" }

// osName is what `go test` prints as goos: the runtime's word, not the
// distribution that Environment.OS names (gopsutil's platform, e.g. "debian 12").
func osName(e Environment) string {
	os := strings.ToLower(e.OS)
	switch {
	case os == "":
		return ""
	case strings.Contains(os, "darwin") || strings.Contains(os, "mac"):
		return "darwin"
	case strings.Contains(os, "windows"):
		return "windows"
	case strings.Contains(os, "freebsd"):
		return "freebsd"
	}
	return "linux"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
