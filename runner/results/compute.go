package results

import "time"

// Ceiling is the machine's compute ceiling as ortbench measured it: a
// generated MatMul-only model ([Batch, K] × [K, N], float32) run through
// the same ONNX Runtime library and session options as the cells, on 1…N
// cores (runner/ceiling). The environment block carries it when a
// config sets `ceiling: true`; `ortbench ceiling` prints and caches it.
type Ceiling struct {
	Model string `json:"model"` // "matmul [256,1024]x[1024,1024] float32"
	Batch int    `json:"batch"`
	K     int    `json:"k"`
	N     int    `json:"n"`
	// FlopsPerRun is 2·Batch·K·N: one multiply and one add per term.
	FlopsPerRun        int64     `json:"flops_per_run"`
	OnnxruntimeVersion string    `json:"onnxruntime_version"`
	OnnxruntimeLibrary string    `json:"onnxruntime_library,omitempty"`
	Options            string    `json:"session_options"` // the options the ceiling ran with, in words
	MeasuredAt         time.Time `json:"measured_at"`
	// Cache is the file the ceiling was written to (or read from, with Cached).
	Cache  string `json:"cache,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	// Points are the ceiling at 1, 2, … intra-op threads.
	Points []CeilingPoint `json:"points"`
}

// CeilingPoint is the ceiling on Threads cores: the best and the median
// trial's GFLOP/s of the better way (the best is the ceiling cells are
// compared with), and each way's best.
type CeilingPoint struct {
	Threads      int     `json:"threads"`
	GFLOPS       float64 `json:"gflops"`
	MedianGFLOPS float64 `json:"median_gflops"`
	Trials       int     `json:"trials"`
	// Way is the better way: "intra-op" (one session, Threads intra-op
	// threads) or "sessions" (Threads one-thread sessions at once).
	Way            string  `json:"way"`
	IntraOpGFLOPS  float64 `json:"intra_op_gflops"`
	SessionsGFLOPS float64 `json:"sessions_gflops,omitempty"`
}

// At is the ceiling for a cell that used cores cores: the point at
// min(cores, the most threads measured) threads; false without points.
func (c *Ceiling) At(cores int) (CeilingPoint, bool) {
	if c == nil || len(c.Points) == 0 {
		return CeilingPoint{}, false
	}
	best := c.Points[0]
	for _, p := range c.Points {
		if p.Threads <= max(cores, 1) && p.Threads >= best.Threads {
			best = p
		}
	}
	return best, true
}

// Compute is a cell's place on the roofline: the GFLOP/s it achieved (FLOPs
// per row from the model's graph × rows/s) against the machine's ceiling for
// the cores it used. Nil for the heavy task; a figure that does not apply
// is null and Note says why.
type Compute struct {
	// FlopsPerRow is the graph's estimate (onnx/graph: 2·K·N per MatMul or
	// Gemm with an initializer weight; element-wise ops not counted).
	FlopsPerRow int64 `json:"flops_per_row"`
	// GFLOPS is FlopsPerRow × rows/s ÷ 1e9; null where the graph's FLOPs
	// are unknown (tree ensembles, unsupported ops).
	GFLOPS *float64 `json:"gflops"`
	// CeilingThreads and CeilingGFLOPS are the ceiling point the cell is
	// compared with (min(cores used, threads measured)); null without a
	// measured ceiling.
	CeilingThreads int      `json:"ceiling_threads,omitempty"`
	CeilingGFLOPS  *float64 `json:"ceiling_gflops"`
	// PctOfCeiling is 100 × GFLOPS ÷ CeilingGFLOPS.
	PctOfCeiling *float64 `json:"pct_of_ceiling"`
	Note         string   `json:"note,omitempty"`
}
