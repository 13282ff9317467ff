package results

import (
	"fmt"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/stats"
)

// Ceiling is the machine's compute and bandwidth ceilings as ortbench
// measured them: a generated MatMul-only model ([Batch, K] × [K, N],
// float32) and a generated Add of two vectors of BandwidthElems float32
// (far larger than the caches), run through the same ONNX Runtime library
// and session options as the cells, on 1…N cores (runner/ceiling). The
// environment block carries it when a config sets `ceiling: true`;
// `ortbench ceiling` prints and caches it.
type Ceiling struct {
	Model string `json:"model"` // "matmul [256,1024]x[1024,1024] float32"
	Batch int    `json:"batch"`
	K     int    `json:"k"`
	N     int    `json:"n"`
	// FlopsPerRun is 2·Batch·K·N: one multiply and one add per term.
	FlopsPerRun int64 `json:"flops_per_run"`
	// BandwidthModel is the bandwidth model in words ("add [1,8388608] +
	// [8388608] float32"); BandwidthBytesPerRun is 12·BandwidthElems: two
	// float32 vectors read and one written per run, as STREAM counts (the
	// read a cache may do before writing a line is not counted). Empty in
	// a ceiling cached before bandwidth was measured.
	BandwidthModel       string    `json:"bandwidth_model,omitempty"`
	BandwidthElems       int       `json:"bandwidth_elems,omitempty"`
	BandwidthBytesPerRun int64     `json:"bandwidth_bytes_per_run,omitempty"`
	OnnxruntimeVersion   string    `json:"onnxruntime_version"`
	OnnxruntimeLibrary   string    `json:"onnxruntime_library,omitempty"`
	Options              string    `json:"session_options"` // the options the ceiling ran with, in words
	MeasuredAt           time.Time `json:"measured_at"`
	// Cache is the file the ceiling was written to (or read from, with Cached).
	Cache  string `json:"cache,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	// Points are the ceiling at 1, 2, … intra-op threads.
	Points []CeilingPoint `json:"points"`
	// How says which ceiling the cells' % of ceiling is against:
	// CeilingBeforeRun (measured once, the best of Trials trials) or
	// CeilingEveryRound (the interleaved schedule: a burst per core count
	// in every round, among the cells; Rounds holds them).
	How string `json:"how,omitempty"`
	// Rounds are the bursts of the interleaved schedule, in the order run.
	Rounds []CeilingRound `json:"rounds,omitempty"`
	// BurstShare is the bursts' share of the rounds' wall time: what
	// measuring the ceiling every round cost the run.
	BurstShare float64 `json:"burst_share,omitempty"`
}

// Ways a run measured the ceiling (Ceiling.How).
const (
	CeilingBeforeRun  = "before the run"
	CeilingEveryRound = "every round"
)

// CeilingRound is one burst of the ceiling's MatMul model on Threads cores
// in round Round: GFLOPS over Seconds of wall time.
type CeilingRound struct {
	Round   int     `json:"round"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
	Seconds float64 `json:"seconds"`
}

// RoundsAt are the bursts on threads cores.
func (c *Ceiling) RoundsAt(threads int) []CeilingRound {
	if c == nil {
		return nil
	}
	var out []CeilingRound
	for _, r := range c.Rounds {
		if r.Threads == threads {
			out = append(out, r)
		}
	}
	return out
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
	// BandwidthGBPS is the bandwidth ceiling on Threads cores in GB/s
	// (10⁹ bytes a second): the best trial of the better way
	// (BandwidthWay) on the Add model; MedianBandwidthGBPS is that way's
	// median trial. Zero in a ceiling cached before bandwidth was measured.
	BandwidthGBPS         float64 `json:"bandwidth_gbps,omitempty"`
	MedianBandwidthGBPS   float64 `json:"median_bandwidth_gbps,omitempty"`
	BandwidthWay          string  `json:"bandwidth_way,omitempty"`
	IntraOpBandwidthGBPS  float64 `json:"intra_op_bandwidth_gbps,omitempty"`
	SessionsBandwidthGBPS float64 `json:"sessions_bandwidth_gbps,omitempty"`
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
// the cores it used, and its arithmetic intensity (FLOPs per byte moved)
// against the bandwidth ceiling. Nil for the heavy task; a figure that does
// not apply is null and Note says why.
type Compute struct {
	// FlopsPerRow is the graph's estimate (onnx/graph: 2·K·N per MatMul or
	// Gemm with an initializer weight; element-wise ops not counted).
	FlopsPerRow int64 `json:"flops_per_row"`
	// GFLOPS is FlopsPerRow × rows/s ÷ 1e9; null where the graph's FLOPs
	// are unknown (tree ensembles, unsupported ops).
	GFLOPS *float64 `json:"gflops"`
	// CeilingThreads and CeilingGFLOPS are the ceiling point the cell is
	// compared with (min(cores used, threads measured)) — with the ceiling
	// measured every round, the median burst on those cores; null without
	// a measured ceiling.
	CeilingThreads int      `json:"ceiling_threads,omitempty"`
	CeilingGFLOPS  *float64 `json:"ceiling_gflops"`
	// PctOfCeiling is 100 × GFLOPS ÷ CeilingGFLOPS; with the ceiling
	// measured every round (Ceiling.How), 100 × the median of the per-round
	// ratios cell GFLOP/s ÷ ceiling GFLOP/s on CeilingThreads cores, and
	// PctOfCeilingLo…Hi is its 95% interval over PctOfCeilingRounds rounds.
	// Null, with a "measurement problem" note, when the share (or its
	// interval's lower end) is above 100%: no cell outruns the machine.
	PctOfCeiling       *float64 `json:"pct_of_ceiling"`
	PctOfCeilingLo     *float64 `json:"pct_of_ceiling_lo"`
	PctOfCeilingHi     *float64 `json:"pct_of_ceiling_hi"`
	PctOfCeilingRounds int      `json:"pct_of_ceiling_rounds,omitempty"`
	// BytesPerRow is the graph's estimate of the bytes a row moves to and
	// from memory: its input and outputs, and the weights read once per
	// batch (weight bytes ÷ batch size); intermediate activations are taken
	// to stay in cache. Null where a shape or element size is unknown.
	BytesPerRow *float64 `json:"bytes_per_row"`
	// FlopsPerByte is the arithmetic intensity, FlopsPerRow ÷ BytesPerRow.
	FlopsPerByte *float64 `json:"flops_per_byte"`
	// CeilingBandwidthGBPS is the bandwidth ceiling at CeilingThreads (GB/s);
	// AttainableGFLOPS is the roofline there: min(CeilingGFLOPS,
	// FlopsPerByte × CeilingBandwidthGBPS). Null without a measured ceiling
	// with bandwidth, or without an intensity.
	CeilingBandwidthGBPS *float64 `json:"ceiling_bandwidth_gbps"`
	AttainableGFLOPS     *float64 `json:"attainable_gflops"`
	Note                 string   `json:"note,omitempty"`
}

// BurstMedian is the median GFLOP/s of the bursts on threads cores; false
// without any.
func (c *Ceiling) BurstMedian(threads int) (float64, bool) {
	bursts := c.RoundsAt(threads)
	if len(bursts) == 0 {
		return 0, false
	}
	gs := make([]float64, len(bursts))
	for i, b := range bursts {
		gs[i] = b.GFLOPS
	}
	return stats.Median(gs), true
}

// CeilingShareText is a cell's % of ceiling in words ("62% of the 2-core
// ceiling (95% interval 58–66%, paired over 9 rounds)"); a share above
// 100% is its measurement problem, never a figure; "" without either.
func CeilingShareText(x *Compute) string {
	if x == nil {
		return ""
	}
	if x.PctOfCeiling == nil {
		if i := strings.Index(x.Note, "measurement problem"); i >= 0 {
			return x.Note[i:]
		}
		return ""
	}
	s := fmt.Sprintf("%.0f%% of the %d-core ceiling", *x.PctOfCeiling, x.CeilingThreads)
	switch {
	case x.PctOfCeilingLo != nil && x.PctOfCeilingHi != nil:
		s += fmt.Sprintf(" (95%% interval %.0f–%.0f%%, paired over %d rounds)", *x.PctOfCeilingLo, *x.PctOfCeilingHi, x.PctOfCeilingRounds)
	case x.PctOfCeilingRounds > 0:
		s += fmt.Sprintf(" (paired over %d rounds: too few for an interval)", x.PctOfCeilingRounds)
	}
	return s
}

// ceilingLines are the table's lines on the ceiling: how it was measured,
// then each cell's share of it.
func ceilingLines(run *Run) []string {
	c := run.Environment.Ceiling
	if c == nil {
		return nil
	}
	var out []string
	switch c.How {
	case CeilingEveryRound:
		out = append(out, fmt.Sprintf("measured every round (%d bursts among the cells, %.0f%% of the rounds' time): %% of ceiling is paired by round", len(c.Rounds), 100*c.BurstShare))
	case CeilingBeforeRun:
		out = append(out, "measured once before the run (the sequential schedule): % of ceiling is against its best trial, without an interval")
	}
	for i := range run.Cells {
		if s := CeilingShareText(run.Cells[i].Compute); s != "" && Measured(run.Cells[i].Status) {
			out = append(out, run.Cells[i].Name+": "+s)
		}
	}
	return out
}
