package results

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func TestEncodeBenchfmtParses(t *testing.T) {
	run := sampleRun()
	var buf bytes.Buffer
	if err := EncodeBenchfmt(run, &buf); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(bytes.NewReader(buf.Bytes()), "bench.txt")
	var results []*benchfmt.Result
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("%v\n%s", rec, buf.String())
		case *benchfmt.Result:
			results = append(results, rec.Clone())
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	// Two ok cells × three repetitions; failed and skipped cells are left out.
	if len(results) != 6 {
		t.Fatalf("got %d results, want 6:\n%s", len(results), buf.String())
	}
	first := results[0]
	if got, want := first.Name.String(), "Infer/model=mlp_large_digits/strategy=sequential/workers=0/threads=1/batch_size=64-8"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	for k, want := range map[string]string{"goos": "linux", "goarch": "amd64", "cpu": "Test CPU @ 3GHz", "pkg": "ortbench", "ort": "1.24.1", "experiment": "go-vs-ort-threads"} {
		if got := first.GetConfig(k); got != want {
			t.Errorf("config %s = %q, want %q", k, got, want)
		}
	}
	if v, ok := first.Value(UnitRowsPerSec); !ok || v != 9800 {
		t.Errorf("rows/s = %v %v, want 9800", v, ok)
	}
	// ns/row is tidied to sec/row by the reader.
	if v, ok := first.Value("sec/row"); !ok || v <= 0 {
		t.Errorf("sec/row = %v %v", v, ok)
	}
	if v, ok := first.Value(UnitPeakRSS); !ok || v != 50<<20 {
		t.Errorf("peak RSS = %v %v", v, ok)
	}
	if u := r.Units().Get(UnitRowsPerSec, "better"); u == nil || u.Value != "higher" {
		t.Errorf("rows/s better = %v", u)
	}
	if !strings.Contains(buf.String(), "\nBenchmarkInfer/model=") {
		t.Errorf("want lines starting BenchmarkInfer/:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "workers=4") {
		t.Errorf("failed cell written:\n%s", buf.String())
	}
}

func TestBenchNameHeavyTask(t *testing.T) {
	c := &Cell{Strategy: "goroutines", Params: NewParams("workers", 4, "batch_size", 16), Workload: Workload{Kind: "heavy-task", Cost: 100000}}
	if got, want := BenchName(c), "BenchmarkHeavyTask/cost=100000/strategy=goroutines/workers=4/batch_size=16"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c = &Cell{Strategy: "processes", Params: NewParams("workers", 2, "threads", 1, "transport", "mmap arrow", "start", "spawn", "batch_size", 64), Workload: Workload{Kind: "onnx", Model: "a/b c.onnx"}}
	if got, want := BenchName(c), "BenchmarkInfer/model=b_c/strategy=processes/workers=2/threads=1/transport=mmap_arrow/start=spawn/batch_size=64"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
