package strategy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/pyproc"
	"github.com/ortbench/ortbench/runner/workload"
)

// The py-* strategies run a cell in Python, beside the Go strategies: one
// long-lived runner process per cell (baselines/python), started and driven
// by package pyproc. Start sends the cell and waits for "ready" (so start-up
// is the interpreter's start, the data load, the sessions and any pool of
// worker processes); each Pass asks for batches 0..n-1 and reads back the
// per-batch latencies and the outputs of those rows, straight into out. The
// runner measures wall time, CPU and memory from outside, over the Python
// process and all its children (PIDs), and verifies the outputs against the
// same sequential reference as every other cell.

// PythonEnvVar names an interpreter to use instead of baselines/python/.venv.
const PythonEnvVar = pyproc.EnvVar

// FindPython returns the interpreter and the baseline's directory
// (baselines/python), or an error wrapping ErrSkip that says how to create
// the environment (pyproc.Find).
func FindPython() (python, dir string, err error) {
	python, dir, err = pyproc.Find()
	return python, dir, skipped(err)
}

// skipped makes the Python side's environment failures ErrSkip, so the
// runner reports the cell as skipped, with the reason.
func skipped(err error) error {
	if errors.Is(err, pyproc.ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrSkip, err)
	}
	return err
}

// python is one py-* cell: a Strategy over a pyproc.Runner.
type python struct {
	name string
	job  *Job
	run  *pyproc.Runner // set by a successful Start
	lat  []int64
}

var (
	_ Strategy    = (*python)(nil)
	_ ProcessTree = (*python)(nil)
	_ Reporter    = (*python)(nil)
)

func kindWord(k onnx.Kind) string {
	if k == onnx.Int64 {
		return "int64"
	}
	return "float32"
}

// startMessage describes the job to the Python runner.
func (p *python) startMessage() (pyproc.StartMsg, error) {
	job := p.job
	w := job.Workload
	m := pyproc.StartMsg{
		Op: "start", Strategy: p.name,
		Params:  pyParamsOf(job),
		Session: pyproc.Session{GraphOptimization: job.Options.GraphOptimization, MemArena: job.Options.MemArena, MemPattern: job.Options.MemPattern},
	}
	for _, l := range w.Layout() {
		m.Layout = append(m.Layout, pyproc.Output{Name: l.Name, Kind: kindWord(l.Kind), Width: l.Width})
	}
	switch w := w.(type) {
	case *workload.Tensors:
		model, err := filepath.Abs(w.ModelInfo().Path)
		if err != nil {
			return m, err
		}
		// The very values the Go cells feed, written once per run.
		path, err := w.NPZ()
		if err != nil {
			return m, fmt.Errorf("%s: writing the inputs for Python: %w", p.name, err)
		}
		m.Workload = pyproc.Workload{Kind: "onnx", Model: model, Inputs: path, Feeds: pyproc.FeedsOf(w.Feeds()), Rows: w.Rows(), Width: 1}
	case *workload.Model:
		model, err := filepath.Abs(w.ModelInfo().Path)
		if err != nil {
			return m, err
		}
		data, err := filepath.Abs(w.Table().Path)
		if err != nil {
			return m, err
		}
		// The resolved feature columns, so Python reads exactly what Go read.
		m.Workload = pyproc.Workload{Kind: "onnx", Model: model, Dataset: data, Features: w.Table().FeatureNames, Rows: w.Rows(), Width: w.Table().Width}
	case *workload.Heavy:
		m.Workload = pyproc.Workload{Kind: "heavy-task", Rows: w.Rows(), Width: 1, Cost: w.Cost()}
	default:
		return m, fmt.Errorf("%s cannot run a %s workload", p.name, w.Kind())
	}
	return m, nil
}

func (p *python) Start(ctx context.Context, job *Job) error {
	p.job = job
	msg, err := p.startMessage()
	if err != nil {
		return err
	}
	interp, dir, err := FindPython()
	if err != nil {
		return err
	}
	run, err := pyproc.Start(ctx, interp, dir, msg)
	if err != nil {
		return skipped(err)
	}
	p.run = run
	return nil
}

func (p *python) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	if err := p.readPass(ctx, n, out); err != nil {
		return skipped(err)
	}
	rec := recs.Get(0)
	for i, ns := range p.lat[:n] {
		if ns < 0 {
			start, rows := workload.Span(i, out.BatchSize, out.Rows)
			return fmt.Errorf("python runner: batch %d (rows %d..%d) was not processed", i, start, start+rows-1)
		}
		rec.Record(time.Duration(ns))
		out.Done(i)
	}
	return nil
}

// readPass runs one pass, the reply's blocks checked against out's layout:
// latencies into p.lat, outputs into out at rows 0..rows-1.
func (p *python) readPass(ctx context.Context, n int, out *workload.Outputs) error {
	rows := min(n*out.BatchSize, out.Rows)
	if cap(p.lat) < n {
		p.lat = make([]int64, n)
	}
	p.lat = p.lat[:n]
	want := []pyproc.Block{{Name: "latency_ns", Kind: "int64", Count: n}}
	dst := [][]byte{raw.Bytes(p.lat)}
	for k, l := range out.Layout {
		cnt := rows * l.Width
		want = append(want, pyproc.Block{Name: l.Name, Kind: kindWord(l.Kind), Count: cnt})
		if l.Kind == onnx.Int64 {
			dst = append(dst, raw.Bytes(out.I64[k][:cnt]))
		} else {
			dst = append(dst, raw.Bytes(out.F32[k][:cnt]))
		}
	}
	return p.run.Pass(ctx, n, rows, want, dst)
}

func (p *python) Recorders() int { return 1 }

// PIDs is the runner process and every process under it (pool workers, the
// forkserver, multiprocessing's resource tracker), so memory and CPU are the
// whole tree's.
func (p *python) PIDs() []int {
	if p.run == nil {
		return nil
	}
	return p.run.PIDs()
}

// Report says which Python build ran the cell (the cell's extra).
func (p *python) Report() map[string]any {
	if p.run == nil || p.run.Ready().PID == 0 {
		return nil
	}
	info := p.run.Ready()
	py := info.Python
	gil := "GIL enabled"
	if !py.GILEnabled {
		gil = "GIL disabled"
	}
	build := "default build"
	if py.FreeThreaded {
		build = "free-threaded build"
	}
	return map[string]any{
		"python":                     fmt.Sprintf("%s %s (%s, %s)", py.Implementation, py.Version, build, gil),
		"python_free_threaded":       py.FreeThreaded,
		"python_executable":          py.Executable,
		"python_onnxruntime_version": info.ORT.Version,
		"python_onnxruntime_library": info.ORT.Library,
	}
}

// Close asks the runner to quit and waits for it and its pool to exit
// (pyproc.Runner.Close).
func (p *python) Close() error {
	if p.run == nil {
		return nil
	}
	return skipped(p.run.Close())
}

// The py-* definitions: each config's keys, defaults, validation and
// one-line description.

var (
	startMethods = []string{"fork", "forkserver", "spawn"}
	dataModes    = []string{"pickle", "shared_memory"}
)

// pyProcessKeys is implemented by the process-based py-* configs.
type pyProcessKeys interface {
	processKeys() (startMethod, data string)
}

// pyParamsOf is the Python runner's view of a cell, made from its config.
func pyParamsOf(job *Job) pyproc.Params {
	sh, b := job.Shape(), job.Config.Common()
	p := pyproc.Params{BatchSize: b.BatchSize, Workers: max(sh.Workers, 1), Threads: max(sh.Threads, 1), Spinning: b.Spinning}
	if pk, ok := job.Config.(pyProcessKeys); ok {
		p.StartMethod, p.Data = pk.processKeys()
	}
	return p
}

func pyDef(d Definition) Definition {
	name := d.Name
	d.New = func() Strategy { return &python{name: name} }
	d.Baseline = "py-sequential"
	if name == "py-sequential" {
		d.Baseline = ""
	}
	return d
}

// pythonSide marks the py-* configs: the Python wheel's CPU EP only.
func (c *pySequentialConfig) pythonSide() {}
func (c *pyIntraOpConfig) pythonSide()    {}
func (c *pyThreadsConfig) pythonSide()    {}
func (c *pyAsyncioConfig) pythonSide()    {}
func (c *pyProcessesConfig) pythonSide()  {}

type pySequentialConfig struct {
	Base
}

func (c *pySequentialConfig) Validate() []error { return nil }

// Resources: the Python runner: one process, one session, its own copy of the data.
func (c *pySequentialConfig) Resources() Resources {
	return Resources{Sessions: 1, Processes: 1, DataCopies: 1}
}

func (c *pySequentialConfig) Shape() Shape { return Shape{Workers: 1, Threads: 1} }
func (c *pySequentialConfig) Describe() string {
	return fmt.Sprintf("py-sequential: 1 Python thread, 1 session × 1 intra-op thread, batch %d", c.BatchSize)
}

func pySequentialDef() Definition {
	return pyDef(Definition{
		Name:      "py-sequential",
		Summary:   "Python: a plain loop over one InferenceSession, 1 intra-op thread (Python's baseline)",
		NewConfig: func() Config { return &pySequentialConfig{} },
	})
}

type pyIntraOpConfig struct {
	Threads int `key:"threads" ort:"true" auto:"cores"`
	Base
}

func (c *pyIntraOpConfig) Validate() []error {
	return collect(atLeast("threads", c.Threads, 1))
}

// Resources: the Python runner: one process, one session, its own copy of the data.
func (c *pyIntraOpConfig) Resources() Resources {
	return Resources{Sessions: 1, Processes: 1, DataCopies: 1}
}

func (c *pyIntraOpConfig) Shape() Shape { return Shape{Workers: 1, Threads: c.Threads} }
func (c *pyIntraOpConfig) Describe() string {
	return fmt.Sprintf("py-intra-op: 1 Python thread, 1 session × %s%s, batch %d", threadsWord(&c.Base, c.Threads), spinWord(&c.Base), c.BatchSize)
}

func pyIntraOpDef() Definition {
	return pyDef(Definition{
		Name:      "py-intra-op",
		Summary:   "Python: a plain loop over one InferenceSession with T intra-op threads",
		NeedsORT:  true,
		NewConfig: func() Config { return &pyIntraOpConfig{Threads: 1} },
	})
}

type pyThreadsConfig struct {
	Workers int `key:"workers"`
	Threads int `key:"threads" ort:"true" auto:"cores"`
	Base
}

func (c *pyThreadsConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1), atLeast("threads", c.Threads, 1))
}

// Resources: the Python runner: one process, one session, its own copy of the data.
func (c *pyThreadsConfig) Resources() Resources {
	return Resources{Sessions: 1, Processes: 1, DataCopies: 1}
}

func (c *pyThreadsConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *pyThreadsConfig) Describe() string {
	return fmt.Sprintf("py-threads: ThreadPoolExecutor(%d) sharing 1 session × %s%s, batch %d", c.Workers, threadsWord(&c.Base, c.Threads), spinWord(&c.Base), c.BatchSize)
}

func pyThreadsDef() Definition {
	return pyDef(Definition{
		Name:      "py-threads",
		Summary:   "Python: ThreadPoolExecutor(N) over one shared InferenceSession (ORT releases the GIL in run)",
		NewConfig: func() Config { return &pyThreadsConfig{Threads: 1} },
	})
}

type pyAsyncioConfig struct {
	Workers int `key:"workers"`
	Base
}

func (c *pyAsyncioConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1))
}

// Resources: the Python runner: one process, one session, its own copy of the data.
func (c *pyAsyncioConfig) Resources() Resources {
	return Resources{Sessions: 1, Processes: 1, DataCopies: 1}
}

func (c *pyAsyncioConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: 1} }
func (c *pyAsyncioConfig) Describe() string {
	return fmt.Sprintf("py-asyncio: event loop + run_in_executor on %d threads sharing 1 session × 1 intra-op thread%s, batch %d", c.Workers, spinWord(&c.Base), c.BatchSize)
}

func pyAsyncioDef() Definition {
	return pyDef(Definition{
		Name:      "py-asyncio",
		Summary:   "Python: asyncio, run_in_executor per batch over a ThreadPoolExecutor(N) sharing one session",
		NewConfig: func() Config { return &pyAsyncioConfig{} },
	})
}

// pyProcessesConfig is py-pool's and py-executor's: N worker processes,
// own session each.
type pyProcessesConfig struct {
	Workers     int    `key:"workers"`
	StartMethod string `key:"start_method"`
	Data        string `key:"data"`
	Base
	name, api string
}

func (c *pyProcessesConfig) processKeys() (string, string) { return c.StartMethod, c.Data }
func (c *pyProcessesConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1), oneOf("start_method", c.StartMethod, startMethods), oneOf("data", c.Data, dataModes))
}

// Resources: the runner and its pool, a session each; pickled batches give every worker its own data, shared_memory one copy.
func (c *pyProcessesConfig) Resources() Resources {
	n := max(c.Workers, 1) + 1
	copies := max(c.Workers, 1)
	if c.Data == "shared_memory" {
		copies = 1
	}
	return Resources{Sessions: n, Processes: n, DataCopies: copies}
}

func (c *pyProcessesConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: 1} }
func (c *pyProcessesConfig) Describe() string {
	data := "batches pickled"
	if c.Data == "shared_memory" {
		data = "data in shared_memory"
	}
	return fmt.Sprintf("%s: %s(%d, %s), %s, own session each × 1 intra-op thread%s, batch %d",
		c.name, c.api, c.Workers, c.StartMethod, data, spinWord(&c.Base), c.BatchSize)
}

func pyProcessesDef(name, api, summary string) Definition {
	return pyDef(Definition{
		Name:    name,
		Summary: summary,
		NewConfig: func() Config {
			return &pyProcessesConfig{StartMethod: "fork", Data: "pickle", name: name, api: api}
		},
	})
}

func pyPoolDef() Definition {
	return pyProcessesDef("py-pool", "multiprocessing.Pool", "Python: multiprocessing.Pool of N processes, own session each (start_method, data = pickle | shared_memory)")
}

func pyExecutorDef() Definition {
	return pyProcessesDef("py-executor", "ProcessPoolExecutor", "Python: concurrent.futures.ProcessPoolExecutor of N processes, own session each (start_method, data)")
}
