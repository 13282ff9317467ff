package strategy

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestProcessesWithAnotherORTBuild runs worker processes on a second ONNX
// Runtime build — the PyPI onnxruntime wheel's own library (`make
// ort-pypi`), another release built by another pipeline — beside the
// in-process reference on the run's own build: the A/B of two builds in one
// run. Outputs must agree within the usual float tolerance.
func TestProcessesWithAnotherORTBuild(t *testing.T) {
	libs, _ := filepath.Glob("../../.ort/pypi-*/libonnxruntime.so.1")
	if len(libs) == 0 {
		t.Skip("no .ort/pypi-*/libonnxruntime.so.1 (make ort-pypi): no second ORT build to compare")
	}
	other, err := filepath.Abs(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := onnx.Init(""); err != nil {
		t.Skip(err)
	}
	w, err := workload.NewModel(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	ref := runAll(t, sequentialDef(), w, tp{BatchSize: 16})
	def := processesDef()
	cfg := conf(def, tp{Workers: 2, BatchSize: 16})
	cfg.(*processesConfig).Library = other
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	out := runWith(t, def, w, cfg)
	for k, l := range ref.Layout {
		if l.Kind == onnx.Int64 {
			for i := range ref.I64[k] {
				if out.I64[k][i] != ref.I64[k][i] {
					t.Fatalf("%s[%d]: %d with %s, %d with the run's build", l.Name, i, out.I64[k][i], other, ref.I64[k][i])
				}
			}
			continue
		}
		for i := range ref.F32[k] {
			if d := math.Abs(float64(out.F32[k][i] - ref.F32[k][i])); d > 1e-5 {
				t.Fatalf("%s[%d] differs by %g between the builds", l.Name, i, d)
			}
		}
	}
	// A relative path or a missing file is refused by validation.
	for _, bad := range []string{"libonnxruntime.so", "/nonexistent/libonnxruntime.so"} {
		cfg.(*processesConfig).Library = bad
		if errs := cfg.Validate(); len(errs) != 1 {
			t.Errorf("library %q: %v, want one error", bad, errs)
		}
	}
}

// TestLibraryKeyRefusesWhatIsNotORT: validate refuses a library: that is no
// shared library or no ONNX Runtime, without loading it, and takes the
// library this process loaded.
func TestLibraryKeyRefusesWhatIsNotORT(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{self, "want a libonnxruntime.so"}, // an executable: ET_EXEC or, as PIE, no OrtGetApiBase
		{"/etc/hostname", "is not a shared library"},
	}
	if libc, _ := filepath.Glob("/lib/*-linux-gnu/libc.so.6"); len(libc) > 0 {
		cases = append(cases, struct{ path, want string }{libc[0], "exports no OrtGetApiBase"})
	}
	for _, c := range cases {
		if _, err := os.Stat(c.path); err != nil {
			continue
		}
		err := checkLibrary(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("library %s: %v, want one line saying %q", c.path, err, c.want)
		}
	}
	if lib := onnx.LibraryPath(); lib != "" {
		if err := checkLibrary(lib); err != nil {
			t.Errorf("the loaded library %s refused: %v", lib, err)
		}
	}
}
