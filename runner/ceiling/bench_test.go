package ceiling

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ortbench/ortbench/onnx"
)

// BenchmarkCeilingVsNumpy measures ortbench's ceiling (the generated MatMul
// through ORT) and numpy's float32 GEMM (OpenBLAS, from
// baselines/python/.venv or $ORTBENCH_PYTHON) at the same sizes, thread
// count by thread count, and reports both in GFLOP/s with their ratio:
//
//	go test ./runner/ceiling -run '^$' -bench CeilingVsNumpy -benchtime 1x
//
// Without the Python environment only ortbench's side is reported.
func BenchmarkCeilingVsNumpy(b *testing.B) {
	if _, _, err := onnx.Init(""); err != nil {
		b.Fatal(err)
	}
	py := os.Getenv("ORTBENCH_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../../baselines/python/.venv/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		py = ""
	}
	s := Defaults(runtime.NumCPU(), onnx.DefaultOptions())
	s.Duration = 4 * time.Second
	for range b.N {
		c, err := Measure(context.Background(), s, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range c.Points {
			b.ReportMetric(p.GFLOPS, fmt.Sprintf("ort-%dt-GFLOP/s", p.Threads))
			if py == "" {
				continue
			}
			np, err := numpySgemm(py, s.Batch, s.K, s.N, s.Duration/2, s.Trials, p.Threads)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(np.GFLOPS, fmt.Sprintf("numpy-%dt-GFLOP/s", p.Threads))
			b.ReportMetric(p.GFLOPS/np.GFLOPS, fmt.Sprintf("ort/numpy-%dt", p.Threads))
			b.Logf("%d cores: ORT %.1f (median %.1f; intra-op %.1f, sessions %.1f) GFLOP/s, numpy %.1f (median %.1f) GFLOP/s [%s]: ratio %.2f",
				p.Threads, p.GFLOPS, p.MedianGFLOPS, p.IntraOpGFLOPS, p.SessionsGFLOPS, np.GFLOPS, np.Median, np.BLAS, p.GFLOPS/np.GFLOPS)
		}
	}
}

type numpyPoint struct {
	GFLOPS float64 `json:"gflops"`
	Median float64 `json:"median_gflops"`
	BLAS   string  `json:"blas"`
}

func numpySgemm(py string, batch, k, n int, d time.Duration, trials, threads int) (numpyPoint, error) {
	cmd := exec.Command(py, "testdata/sgemm.py", fmt.Sprint(batch), fmt.Sprint(k), fmt.Sprint(n),
		fmt.Sprint(d.Seconds()), fmt.Sprint(trials))
	t := fmt.Sprint(threads)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+t, "OMP_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
	out, err := cmd.Output()
	if err != nil {
		return numpyPoint{}, fmt.Errorf("numpy sgemm: %w", err)
	}
	var p numpyPoint
	if err := json.Unmarshal(out, &p); err != nil {
		return p, fmt.Errorf("numpy sgemm: %v: %s", err, out)
	}
	return p, nil
}
