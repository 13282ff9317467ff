// Package results holds the results contract ("ortbench/results/v1", see
// DESIGN.md) and writes it out: JSON, CSV and the terminal table. Files are
// written atomically (temp file + rename) so a crash never leaves half a file.
//
// Fields may be added freely; renaming or removing one changes Schema.
package results

import (
	"fmt"
	"strings"
	"time"
)

// Schema names this version of the contract.
//
// v2: params is the cell's ordered parameter list in the config's own words
// (threads, not intra_op_threads); derived facts moved to derived; status
// "unstable" replaced the unstable flag; figures that do not apply are null.
const Schema = "ortbench/results/v2"

// Status of a cell: one vocabulary for every output (docs/METRICS.md).
const (
	StatusOK       = "ok"       // measured, verified, repetitions within unstable_spread
	StatusUnstable = "unstable" // measured and verified, but repetitions spread too far
	StatusFailed   = "failed"   // did not run to the end, or outputs differ from the reference
	StatusSkipped  = "skipped"  // not run: interrupted before it started, or the environment is missing
	// StatusIncomplete: started but cut short (interrupted, or a write of
	// a run still going) before all its repetitions: figures, if any,
	// stand on fewer repetitions than planned and take part in no verdict.
	StatusIncomplete = "incomplete"
)

// Statuses lists the vocabulary in the order counts are printed.
var Statuses = []string{StatusOK, StatusUnstable, StatusFailed, StatusSkipped, StatusIncomplete}

// Measured reports whether a status carries figures (ok or unstable).
func Measured(status string) bool { return status == StatusOK || status == StatusUnstable }

// Run is one results.json.
type Run struct {
	Schema      string      `json:"schema"`
	Experiment  Experiment  `json:"experiment"`
	Environment Environment `json:"environment"`
	Settings    Settings    `json:"settings"`
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	Interrupted bool        `json:"interrupted,omitempty"`
	// Incomplete is true in every write of a run but its last, with the
	// reason: a results.json that still says so was cut short (kill -9,
	// power loss) — see CheckFolder. Absent means complete.
	Incomplete       bool   `json:"incomplete,omitempty"`
	IncompleteReason string `json:"incomplete_reason,omitempty"`
	// PeakRSSBytes is the whole run's peak RSS of this process (VmHWM kept
	// across the per-repetition resets; metrics.RunPeakRSS).
	PeakRSSBytes uint64 `json:"peak_rss_bytes,omitempty"`
	// Schedule is how repetitions were ordered ("interleaved" or
	// "sequential", with why when the config's choice was overridden), Seed
	// the order of the rounds, Rounds how many ran.
	Schedule ScheduleInfo `json:"schedule"`
	// Noise summarises what else the machine did during the run.
	Noise RunNoise `json:"noise"`
	// Verdicts name the fastest strategy (and the lowest p99) per workload
	// and batch size, with the cells tied with it.
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// ServingVerdicts name the strategy that serves the most QPS within
	// the SLO per workload (server runs with an SLO; runner/serve).
	ServingVerdicts []ServingVerdict `json:"serving_verdicts,omitempty"`
	// RunID names this run uniquely (experiment, start time, host); every
	// flat row carries it so several runs concatenate.
	RunID    string   `json:"run_id"`
	Warnings []string `json:"warnings,omitempty"`
	// ParamKeys declares the parameter columns of the flat formats: every
	// key of every strategy this binary knows.
	ParamKeys []ParamKey `json:"param_keys,omitempty"`
	// StatusCounts counts cells per status (Statuses' words).
	StatusCounts map[string]int `json:"status_counts"`
	Cells        []Cell         `json:"cells"`
	// Shard is set when the run is one shard of an experiment (run
	// --shard i/n): which one, and every cell of the whole plan.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Machines summarises each machine of a merged run (ortbench merge),
	// when its shards ran on more than one machine.
	Machines []MachineSummary `json:"machines,omitempty"`
}

// ShardInfo marks a run as shard Index of Count (1-based) of an experiment.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Cells are the identities (Cell.Key) of every cell of the whole plan,
	// in plan order: what a merge of all the shards must contain.
	Cells []string `json:"cells"`
	// ConfigSHA256 is the hash of the resolved config without output.dir
	// and onnxruntime.library (each shard writes to its own folder, each
	// machine may keep the library elsewhere): equal in every shard of one
	// experiment, which merge requires.
	ConfigSHA256 string `json:"config_sha256"`
}

// MachineSummary is one machine's part of a merged run: what it is and, per
// strategy, its best figures.
type MachineSummary struct {
	Label         string   `json:"label"`
	Hostnames     []string `json:"hostnames,omitempty"`
	CPUModel      string   `json:"cpu_model"`
	LogicalCores  int      `json:"logical_cores"`
	PhysicalCores int      `json:"physical_cores"`
	MemoryBytes   uint64   `json:"memory_bytes"`
	// PricePerHour is the price given for this machine's label (0: none).
	PricePerHour float64  `json:"price_per_hour,omitempty"`
	Sources      []string `json:"sources"` // the shard folders measured on it
	Cells        int      `json:"cells"`
	// Strategies are per strategy, sorted by name, over the machine's
	// cells with status ok.
	Strategies []MachineStrategy `json:"strategies"`
}

// MachineStrategy is one strategy on one machine: its fastest ok cell.
type MachineStrategy struct {
	Strategy string `json:"strategy"`
	Cells    int    `json:"cells"` // ok cells of this strategy on this machine
	Best     string `json:"best"`  // the fastest of them (highest rows/s)
	// RowsPerSecond and P99Seconds are the best cell's (median throughput,
	// p99 batch latency).
	RowsPerSecond float64 `json:"rows_per_second"`
	P99Seconds    float64 `json:"p99_seconds"`
	// RowsPerSecondPerCore is RowsPerSecond ÷ the machine's logical cores.
	RowsPerSecondPerCore float64 `json:"rows_per_second_per_core"`
	// RowsPerCost is rows per unit of money at the best cell's rate:
	// RowsPerSecond × 3600 ÷ PricePerHour; 0 when no price was given.
	RowsPerCost float64 `json:"rows_per_cost,omitempty"`
}

// CountStatuses counts the cells per status: the one count every output prints.
func (r *Run) CountStatuses() map[string]int {
	counts := map[string]int{}
	for _, s := range Statuses {
		if s != StatusIncomplete {
			counts[s] = 0
		}
	}
	for i := range r.Cells {
		counts[CellStatus(r.Cells[i].Status)]++
	}
	return counts
}

// CellStatus is a status read from a file in the vocabulary: a cell
// written with none (an interrupted run of an older build) is incomplete.
func CellStatus(s string) string {
	if s == "" {
		return StatusIncomplete
	}
	return s
}

// CountsLine is the counts as one line: "6 ok, 2 unstable, 0 failed, 0 skipped".
// Incomplete cells are named only where there are some: only a run cut
// short has them.
func CountsLine(counts map[string]int) string {
	parts := make([]string, 0, len(Statuses))
	for _, s := range Statuses {
		if s == StatusIncomplete && counts[s] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(parts, ", ")
}

// Experiment identifies the config that produced the run.
type Experiment struct {
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	ConfigPath   string `json:"config_path,omitempty"`
	ConfigSHA256 string `json:"config_sha256"`
}

// Environment is the machine and software the run measured.
type Environment struct {
	CPUModel           string `json:"cpu_model"`
	PhysicalCores      int    `json:"physical_cores"`
	LogicalCores       int    `json:"logical_cores"`
	MemoryBytes        uint64 `json:"memory_bytes"`
	OS                 string `json:"os"`
	Kernel             string `json:"kernel,omitempty"`
	Arch               string `json:"arch"`
	GoVersion          string `json:"go_version"`
	OnnxruntimeVersion string `json:"onnxruntime_version"`
	OnnxruntimeLibrary string `json:"onnxruntime_library,omitempty"`
	GOMAXPROCS         int    `json:"gomaxprocs"`
	GitCommit          string `json:"git_commit"`
	Hostname           string `json:"hostname,omitempty"`
	Caches             string `json:"caches,omitempty"`
	// Cores is what the run could use of the host: affinity ∩ cpuset,
	// the cgroup quota, NUMA nodes and core types (cores.go); nil in
	// results written before it was recorded.
	Cores *Cores `json:"cores,omitempty"`
	// Ceiling is the machine's measured compute ceiling (config key
	// `ceiling: true`); nil when none was measured.
	Ceiling *Ceiling `json:"ceiling,omitempty"`
}

// Settings are the run-wide measurement settings, stated in every result so
// nobody has to guess what the numbers mean.
type Settings struct {
	WarmupBatches      int     `json:"warmup_batches"`
	Repetitions        int     `json:"repetitions"`
	MinDurationSeconds float64 `json:"min_duration_seconds"`
	Tolerance          float64 `json:"tolerance"`
	Spinning           bool    `json:"spinning_default"`
	GraphOptimization  string  `json:"graph_optimization"`
	MemArena           bool    `json:"memory_arena"`
	MemPattern         bool    `json:"memory_pattern"`
	UnstableSpread     float64 `json:"unstable_spread"`
	SampleInterval     float64 `json:"sample_interval_seconds"`
	ReferenceCell      string  `json:"reference_cell"`
	// Profile: each ORT cell has one untimed profiled pass (cell.profile).
	Profile bool `json:"profile,omitempty"`
	// Percentiles are the latency percentiles every output lists (the
	// percentiles key); absent in older files: DefaultPercentiles.
	Percentiles []float64 `json:"percentiles,omitempty"`
}

// Cell is one point of the sweep: a strategy with its parameters.
type Cell struct {
	Name        string `json:"name"`
	Strategy    string `json:"strategy"`
	Description string `json:"description"`
	// Params is the cell's identity: every key of its strategy with the
	// resolved value, in the strategy's order.
	Params Params `json:"params"`
	// Derived are facts ortbench derived (execution mode, keys resolved
	// from 0), apart from what the user set.
	Derived        Params   `json:"derived,omitempty"`
	Workload       Workload `json:"workload"`
	Status         string   `json:"status"`
	Error          string   `json:"error,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
	StartupSeconds float64  `json:"startup_seconds"`
	WallSeconds    float64  `json:"wall_seconds"`
	RowsPerSecond  float64  `json:"rows_per_second"`
	BatchesPerSec  float64  `json:"batches_per_second"`
	Throughput     Summary  `json:"throughput_rows_per_second"`
	Speedup        float64  `json:"speedup"`
	// SpeedupBase names the cell Speedup is relative to: the strategy's
	// baseline at the same batch size; "" = no baseline, speedup null.
	SpeedupBase  string       `json:"speedup_base,omitempty"`
	Efficiency   float64      `json:"efficiency"`
	CoresUsed    int          `json:"cores_used"`
	Latency      Latency      `json:"latency_seconds"`
	CPU          CPU          `json:"cpu"`
	Memory       Memory       `json:"memory"`
	Verification Verification `json:"verification"`
	Repetitions  []Repetition `json:"repetitions"`
	// SpeedupInterval is the paired speedup: the median of the per-round
	// ratios cell ÷ baseline with its 95% interval (interleaved schedule).
	SpeedupInterval *Summary `json:"speedup_interval,omitempty"`
	// Disturbed counts repetitions during which other processes took more
	// than the noise threshold.
	Disturbed int `json:"disturbed_repetitions"`
	// Converged: with a target interval, whether the cell's interval got
	// within it (null without a target).
	Converged *bool          `json:"converged,omitempty"`
	Timeline  []Sample       `json:"timeline,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
	// Compute is the cell's GFLOP/s and its share of the machine's ceiling
	// (onnx workloads that were measured; nil otherwise).
	Compute *Compute `json:"compute,omitempty"`
	// SupportCopy marks a cell a shard ran only as the speedup baseline of
	// its own cells while another shard owns it; merge drops it.
	SupportCopy bool `json:"support_copy,omitempty"`
	// Serving holds a server-scenario cell's figures (serving.go).
	Serving *Serving `json:"serving,omitempty"`
	// Profile is the cell's per-operator time and node placement from one
	// untimed profiled pass (profile: true; opprofile.go).
	Profile *OpProfile `json:"profile,omitempty"`
}

// Key is a cell's identity across runs: workload, strategy and every
// parameter. compare and merge match cells by it.
func (c *Cell) Key() string {
	if len(c.Params) == 0 {
		return c.Name // a hand-made cell without parameters
	}
	w := c.Workload
	id := w.Kind + ":" + modelBase(w.Model) + ":" + c.Strategy
	if p := c.Params.Path(); p != "" {
		id += "/" + p
	}
	return id
}

// Workload says what ran.
type Workload struct {
	Kind    string `json:"kind"` // "onnx" | "heavy-task"
	Model   string `json:"model,omitempty"`
	Dataset string `json:"dataset,omitempty"`
	Rows    int    `json:"rows"`
	Width   int    `json:"width,omitempty"`
	Cost    int    `json:"cost,omitempty"` // heavy task: iterations per item
	// Inputs describe a model fed any way but a table: each input, one
	// item's shape and dtype, and where its values came from
	// ("input_ids: int64[128] int:0,30522"). A row is then one item.
	Inputs []string `json:"inputs,omitempty"`
	// Unverified names the outputs left out of verification: not tensors
	// (sequences, maps such as ZipMap).
	Unverified []string `json:"unverified,omitempty"`
}

// Summary is a median with a confidence interval over repetitions
// (golang.org/x/perf/benchmath).
type Summary struct {
	Median     float64 `json:"median"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
	Spread     float64 `json:"spread"` // (max-min)/median
	// Dispersion is the interquartile range ÷ the median of the undisturbed
	// repetitions: what unstable_spread limits (docs/METRICS.md).
	Dispersion float64 `json:"dispersion,omitempty"`
	Warning    string  `json:"warning,omitempty"`
}

// Latency percentiles per batch, in seconds, from an HDR histogram
// (percentiles.go: its JSON shape and the run's list).
type Latency struct {
	Mean float64
	// P50 and P99 are always measured, listed or not: verdicts, charts,
	// compare's test, tune and the progress line read them.
	P50, P99 float64
	// Listed are the run's other percentiles (Settings.Percentiles less 50
	// and 99), in its order.
	Listed []Percentile
	Max    float64
}

// CPU used by the measured repetitions.
type CPU struct {
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	// Utilization is CPU time ÷ (wall time × usable cores, Environment.UsableCores): 1 = every core busy.
	Utilization float64 `json:"utilization"`
	// CoresBusy is CPU time ÷ wall time (top's %CPU ÷ 100).
	CoresBusy float64 `json:"cores_busy"`
	// TooShort: CPU time came out above cores × wall time, so the sample
	// was too short for /proc's clock-tick resolution; utilization and
	// cores_busy are then null.
	TooShort bool `json:"too_short,omitempty"`
}

// Memory sampled through the measured repetitions.
type Memory struct {
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	RSSSumBytes  uint64 `json:"rss_sum_bytes"`
	PSSSumBytes  uint64 `json:"pss_sum_bytes"`
	USSSumBytes  uint64 `json:"uss_sum_bytes"`
	Processes    int    `json:"processes"`
	// PerProcess is each process's own peaks (the runner, then its worker
	// processes), where the strategy runs several.
	PerProcess []ProcessMemory `json:"per_process,omitempty"`
}

// ProcessMemory is one process's peak memory during the measured repetitions.
type ProcessMemory struct {
	PID          int    `json:"pid"`
	Role         string `json:"role"` // "runner" | "worker 0", "worker 1", … ("worker" when unnamed)
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	PeakPSSBytes uint64 `json:"peak_pss_bytes"`
	PeakUSSBytes uint64 `json:"peak_uss_bytes"`
}

// Verification of a cell's outputs against the reference.
type Verification struct {
	RowsChecked int     `json:"rows_checked"`
	Mismatches  int     `json:"mismatches"`
	MaxAbsDiff  float64 `json:"max_abs_diff"`
	Passed      bool    `json:"passed"`
	Reference   string  `json:"reference"`
	FirstError  string  `json:"first_error,omitempty"`
}

// Repetition is one measured pass over the data.
type Repetition struct {
	WallSeconds   float64 `json:"wall_seconds"`
	Passes        int     `json:"passes"` // whole passes over the data in this repetition
	RowsPerSecond float64 `json:"rows_per_second"`
	P50Seconds    float64 `json:"p50_seconds"`
	P99Seconds    float64 `json:"p99_seconds"`
	// Latency are the run's other percentiles (Latency.Listed) by name
	// ("p99.9"), in seconds: bench.txt's and compare's per-repetition readings.
	Latency      map[string]float64 `json:"latency,omitempty"`
	CPUSeconds   float64            `json:"cpu_seconds"`
	PeakRSSBytes uint64             `json:"peak_rss_bytes"`
	// Round is the round this repetition ran in (1-based): under the
	// interleaved schedule every cell's repetition r ran in round r, so
	// ratios between cells pair up by round.
	Round int `json:"round"`
	// Noise is what the rest of the machine did meanwhile.
	Noise *Noise `json:"noise,omitempty"`
}

// Sample is one point of the memory/CPU timeline.
type Sample struct {
	Seconds    float64 `json:"t"`
	RSSBytes   uint64  `json:"rss_bytes"`
	PSSBytes   uint64  `json:"pss_bytes,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds"`
}
