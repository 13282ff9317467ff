// Package config reads an experiment file (YAML, through viper) into plain
// structs and expands it into a Plan: every sweep cell spelled out, in a
// stable order, with a one-line description each.
//
// Viper stays at this edge: flags > environment (ORTBENCH_…) > file >
// defaults are merged here and copied into Config; nothing else imports viper.
// Decoding is strict (unknown keys and wrong types are errors) and every
// problem is reported at once, each prefixed with file:line and the key path.
package config

import (
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// Config is one experiment file, decoded and defaulted.
type Config struct {
	// Path is the file it came from; Dir is where relative paths resolve
	// (the file's directory).
	Path string `mapstructure:"-"`
	Dir  string `mapstructure:"-"`
	// Resolved is the configuration as it runs, as YAML: the file merged
	// with flags, environment and defaults, every path absolute, the ONNX
	// Runtime library actually loaded (see SetLibrary). `ortbench run -c`
	// re-runs it as is from any directory. SHA256 is its hash.
	Resolved []byte `mapstructure:"-"`
	SHA256   string `mapstructure:"-"`

	Name          string   `mapstructure:"name"`
	Description   string   `mapstructure:"description"`
	Workload      Workload `mapstructure:"workload"`
	BatchSizes    IntList  `mapstructure:"batch_sizes"`
	WarmupBatches int      `mapstructure:"warmup_batches"`
	Repetitions   int      `mapstructure:"repetitions"`
	// MinDuration: each repetition runs whole passes over the data until it
	// has lasted at least this long, so short passes are not timed alone.
	MinDuration    time.Duration `mapstructure:"min_duration"`
	UnstableSpread float64       `mapstructure:"unstable_spread"`
	// Schedule is "interleaved" (every cell started, then rounds of one
	// repetition of each cell in a seeded random order, so drift hits every
	// strategy alike) or "sequential" (cell after cell).
	Schedule string `mapstructure:"schedule"`
	// Seed orders the rounds; 0 draws one (recorded, replay with --seed).
	Seed int64 `mapstructure:"seed"`
	// TargetInterval > 0 keeps adding rounds past repetitions until every
	// cell's 95% interval is within ±TargetInterval of its median, or
	// MaxDuration has passed; 0 runs exactly repetitions rounds.
	TargetInterval float64       `mapstructure:"target_interval"`
	MaxDuration    time.Duration `mapstructure:"max_duration"`
	// NoiseThreshold: a repetition during which other processes kept more
	// than this many cores busy is marked disturbed.
	NoiseThreshold float64       `mapstructure:"noise_threshold"`
	SampleInterval time.Duration `mapstructure:"sample_interval"`
	// Oversubscribe is how many threads per logical core a cell may keep
	// busy (workers × threads); see limits.go for the default and ceiling.
	Oversubscribe int `mapstructure:"oversubscribe"`
	// Ceiling measures the machine's compute ceiling (runner/ceiling) at the
	// start of the run into the environment block; each cell's GFLOP/s is
	// then a share of it. Under the interleaved schedule every round also
	// measures it (runner/ceiling.go), so the share is paired by round.
	Ceiling bool `mapstructure:"ceiling"`
	// Profile adds, after each ONNX Runtime cell's measured repetitions,
	// one untimed pass with ORT's profiler on: the cell's time by operator
	// type and provider, and where its nodes ran (runner/opprofile). A
	// run-level key beside ceiling: both measure more, neither changes
	// what a cell is.
	Profile bool `mapstructure:"profile"`
	// Percentiles are the latency percentiles every output lists
	// (results.DefaultPercentiles: 50, 90, 99, 99.9).
	Percentiles []float64        `mapstructure:"percentiles"`
	Session     Session          `mapstructure:"session"`
	Verify      Verify           `mapstructure:"verify"`
	Output      Output           `mapstructure:"output"`
	ONNXRuntime ONNXRuntime      `mapstructure:"onnxruntime"`
	Strategies  []map[string]any `mapstructure:"strategies"`
	// Tune is the `ortbench tune` section (runner/tune decodes it strictly;
	// run ignores it).
	Tune map[string]any `mapstructure:"tune"`
	// Load is the load scenario: offline (the dataset as fast as possible)
	// or server (open-loop request arrivals; load_section.go).
	Load LoadSection `mapstructure:"load"`

	loc *locator
}

// Workload says what runs: an ONNX model over a dataset, or the heavy task.
type Workload struct {
	Kind    string  `mapstructure:"kind"` // "onnx" | "heavy-task"
	Model   string  `mapstructure:"model"`
	Dataset Dataset `mapstructure:"dataset"`
	// Rows limits the dataset rows used (0 = all).
	Rows int `mapstructure:"rows"`
	// Items is the items per pass: the heavy task's, or the generated
	// inputs' of a model run without a dataset (0: DefaultItems). Cost is
	// the heavy task's LCG rounds per item.
	Items int `mapstructure:"items"`
	Cost  int `mapstructure:"cost"`
	// Shapes sets a model input's dimensions where the model leaves them
	// open: input name → dims, each "batch" (the swept axis, first) or a
	// whole number, e.g. {input_ids: [batch, 128]}. Decoded from the YAML
	// by checkWorkload into ShapeDims (the values mix numbers and words).
	Shapes    map[string]any      `mapstructure:"shapes"`
	ShapeDims map[string][]string `mapstructure:"-"`
	// Inputs says where each input's values come from when there is no
	// dataset: input name → a spec ("uniform:0,1", "normal:0,1",
	// "int:0,30522", a constant; runner/inputs). Inputs not named get
	// their dtype's default spec.
	Inputs     map[string]any    `mapstructure:"inputs"`
	InputSpecs map[string]string `mapstructure:"-"`
	// Seed seeds the generated inputs: the same seed, the same values on
	// every machine, for every strategy and for the Python twin.
	Seed int `mapstructure:"seed"`
	// TestData is a directory in the ONNX test-data layout
	// (test_data_set_N/input_K.pb, output_K.pb): its inputs are fed and its
	// outputs are the values the reference pass must match.
	TestData string `mapstructure:"test_data"`
	// ShapeFlag is set by `run --model`: errors about an open dimension
	// name its --shape flag rather than workload.shapes.
	ShapeFlag bool `mapstructure:"-"`
}

// DefaultItems is the items a pass generates when workload.items is 0.
const DefaultItems = 64

// Dataset selects the file and its feature columns.
type Dataset struct {
	Path string `mapstructure:"path"`
	// Features: names or globs; empty (with no tensor_column) = every numeric
	// column except the label.
	Features     StringList `mapstructure:"features"`
	TensorColumn string     `mapstructure:"tensor_column"`
	Label        string     `mapstructure:"label"`
	AllowNaN     bool       `mapstructure:"allow_nan"`
	// Streaming reads the rows from the file batch by batch on every pass
	// instead of holding the table (streaming.go): for data larger than
	// memory; sequential, intra-op, inter-op, pipeline (source: file) and
	// processes (transport: copy).
	Streaming bool `mapstructure:"streaming"`
}

// Session holds ORT options shared by every strategy's sessions.
type Session struct {
	GraphOptimization string `mapstructure:"graph_optimization"`
	// Spinning is the default for strategies that do not sweep it.
	Spinning      bool `mapstructure:"spinning"`
	MemoryArena   bool `mapstructure:"memory_arena"`
	MemoryPattern bool `mapstructure:"memory_pattern"`
}

// Verify configures the output check.
type Verify struct {
	// Tolerance is the largest absolute difference allowed between float
	// outputs and the reference; integer outputs must be equal.
	Tolerance float64 `mapstructure:"tolerance"`
	// Expected is an optional reference-predictions Parquet file (row,
	// label, probabilities) the reference pass must also match — the Python
	// notebook's outputs.
	Expected string `mapstructure:"expected"`
}

// Output says where results go.
type Output struct {
	Dir     string     `mapstructure:"dir"`
	Formats StringList `mapstructure:"formats"`
}

// ONNXRuntime locates the shared library.
type ONNXRuntime struct {
	Library string `mapstructure:"library"`
}

// IntList is a YAML int or list of ints: a list is a sweep.
type IntList []int

// StringList is a YAML string or list of strings.
type StringList []string

// BoolList is a YAML bool or list of bools.
type BoolList []bool

// defaults are every key's value when neither the file, the environment nor
// a flag sets it. Declaring every key also lets ORTBENCH_… variables reach
// keys the file leaves out.
var defaults = map[string]any{
	"name":                           "",
	"description":                    "",
	"workload.kind":                  "",
	"workload.model":                 "",
	"workload.rows":                  0,
	"workload.items":                 0,
	"workload.cost":                  0,
	"workload.shapes":                map[string]any{},
	"workload.inputs":                map[string]any{},
	"workload.seed":                  1,
	"workload.test_data":             "",
	"workload.dataset.path":          "",
	"workload.dataset.features":      []string{},
	"workload.dataset.tensor_column": "",
	"workload.dataset.label":         "",
	"workload.dataset.allow_nan":     false,
	"workload.dataset.streaming":     false,
	"batch_sizes":                    []int{1},
	"warmup_batches":                 8,
	"repetitions":                    6,
	"min_duration":                   "0s",
	"unstable_spread":                0.25,
	"schedule":                       "interleaved",
	"seed":                           0,
	"target_interval":                0.0,
	"max_duration":                   "10m",
	"noise_threshold":                0.25,
	"sample_interval":                "100ms",
	"oversubscribe":                  DefaultOversubscribe,
	"ceiling":                        false,
	"profile":                        false,
	"percentiles":                    results.DefaultPercentiles,
	"session.graph_optimization":     "all",
	"session.spinning":               false,
	"session.memory_arena":           true,
	"session.memory_pattern":         true,
	"verify.tolerance":               1e-5,
	"verify.expected":                "",
	"output.dir":                     "results",
	"output.formats":                 []string{}, // empty: every registered format (see Load)
	"onnxruntime.library":            "",
	"load.scenario":                  ScenarioOffline,
	"load.arrival":                   ArrivalPoisson,
	"load.shape":                     1.0,
	"load.trace":                     "",
	"load.time_scale":                1.0,
	"load.qps":                       []int{},
	"load.concurrency":               []int{},
	"load.max_in_flight":             0,
	"load.stages":                    []map[string]any{},
	"load.records":                   false,
	"load.request_rows":              1,
	"load.duration":                  "5s",
	"load.min_requests":              1000,
	"load.seed":                      0,
	"load.slo.percentile":            99.0,
	"load.slo.latency":               "0s",
	"load.slo.precision":             0.05,
}
