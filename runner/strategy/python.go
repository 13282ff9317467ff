package strategy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// The py-* strategies run a cell in Python, beside the Go strategies: one
// long-lived runner process per cell (baselines/python, `python -m
// ortbench_py.runner`), driven over its stdin and stdout. Start sends the cell
// and waits for "ready" (so start-up is the interpreter's start, the data
// load, the sessions and any pool of worker processes); each Pass asks for
// batches 0..n-1 and reads back the per-batch latencies and the outputs of
// those rows, straight into out. The runner measures wall time, CPU and
// memory from outside, over the Python process and all its children (PIDs),
// and verifies the outputs against the same sequential reference as every
// other cell.
//
// Protocol: ortbench writes one JSON object per line ({"op": "start"|"pass"|
// "quit", ...}); Python answers each with one JSON line, and a pass reply is
// followed by raw little-endian arrays whose names, kinds and counts the
// header lists (latency_ns first, then each output in layout order). The full
// description is in baselines/python/ortbench_py/runner.py.
//
// Note: outputs could have travelled through a file (.npy, Arrow IPC) the
// runner reads after the pass; the pipe was chosen because it needs no temp
// files to clean up after a crash and the bytes land in out without a copy.

// PythonEnvVar names an interpreter to use instead of baselines/python/.venv.
const PythonEnvVar = "ORTBENCH_PYTHON"

// pyDir is where the Python baseline lives, relative to the repository root.
const pyDir = "baselines/python"

// pyQuitTimeout bounds how long Close waits for the runner (and its pool) to
// exit after "quit" before it kills the process group.
const pyQuitTimeout = 20 * time.Second

// FindPython returns the interpreter and the baseline's directory
// (baselines/python), or an error wrapping ErrSkip that says how to create
// the environment. The directory is searched upwards from the working
// directory and from this executable's; ORTBENCH_PYTHON overrides the
// interpreter.
func FindPython() (python, dir string, err error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for d := s; ; d = filepath.Dir(d) {
			cand := filepath.Join(d, pyDir)
			if _, err := os.Stat(filepath.Join(cand, "ortbench_py", "runner.py")); err == nil {
				dir = cand
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
		if dir != "" {
			break
		}
	}
	if dir == "" {
		return "", "", fmt.Errorf("%w: the Python baseline (%s/ortbench_py) was not found above %s", ErrSkip, pyDir, strings.Join(starts, " or "))
	}
	if p := os.Getenv(PythonEnvVar); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", "", fmt.Errorf("%w: %s=%s: %v (unset it to use %s/.venv, made by `make py-env`)", ErrSkip, PythonEnvVar, p, err, pyDir)
		}
		return found, dir, nil
	}
	python = filepath.Join(dir, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return "", "", fmt.Errorf("%w: no Python environment at %s: create it with `make py-env` (or set %s to an interpreter with onnxruntime, numpy and pyarrow)",
			ErrSkip, filepath.Join(dir, ".venv"), PythonEnvVar)
	}
	return python, dir, nil
}

// python is one py-* cell: a runner process and the pipes to it.
type python struct {
	name string
	job  *Job

	cmd    *exec.Cmd
	pid    int // the runner's pid (and process group); set once by Start
	closed bool
	stdin  io.WriteCloser
	pipe   *os.File // the read end of the runner's stdout
	stdout *bufio.Reader
	stderr *tailWriter
	exited chan struct{} // closed when the process has been waited for
	err    error         // cmd.Wait's result, valid after exited

	info pyReady
	lat  []int64
}

var (
	_ Strategy    = (*python)(nil)
	_ ProcessTree = (*python)(nil)
	_ Reporter    = (*python)(nil)
)

// pyStart is the start message.
type pyStart struct {
	Op       string     `json:"op"`
	Strategy string     `json:"strategy"`
	Params   pyParams   `json:"params"`
	Workload pyWorkload `json:"workload"`
	Session  pySession  `json:"session"`
	Layout   []pyOutput `json:"layout"`
}

type pyParams struct {
	BatchSize   int    `json:"batch_size"`
	Workers     int    `json:"workers"`
	Threads     int    `json:"threads"`
	StartMethod string `json:"start_method,omitempty"`
	Data        string `json:"data,omitempty"`
	Spinning    bool   `json:"spinning"`
}

type pyWorkload struct {
	Kind     string   `json:"kind"`
	Model    string   `json:"model,omitempty"`
	Dataset  string   `json:"dataset,omitempty"`
	Features []string `json:"features,omitempty"`
	Rows     int      `json:"rows"`
	Width    int      `json:"width"`
	Cost     int      `json:"cost,omitempty"`
}

type pySession struct {
	GraphOptimization string `json:"graph_optimization"`
	MemArena          bool   `json:"mem_arena"`
	MemPattern        bool   `json:"mem_pattern"`
}

type pyOutput struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // "int64" | "float32"
	Width int    `json:"width"`
}

// pyReply is every reply's header.
type pyReply struct {
	OK        bool   `json:"ok"`
	Op        string `json:"op"`
	Error     string `json:"error"`
	Skip      bool   `json:"skip"`
	Traceback string `json:"traceback"`
	// pass
	N      int       `json:"n"`
	Rows   int       `json:"rows"`
	Blocks []pyBlock `json:"blocks"`
	pyReady
}

type pyReady struct {
	PID    int `json:"pid"`
	Python struct {
		Implementation string `json:"implementation"`
		Version        string `json:"version"`
		FreeThreaded   bool   `json:"free_threaded"`
		GILEnabled     bool   `json:"gil_enabled"`
		Executable     string `json:"executable"`
	} `json:"python"`
	ORT struct {
		Version string `json:"version"`
		Library string `json:"library"`
	} `json:"onnxruntime"`
}

type pyBlock struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

func kindWord(k onnx.Kind) string {
	if k == onnx.Int64 {
		return "int64"
	}
	return "float32"
}

// startMessage describes the job to the Python runner.
func (p *python) startMessage() (pyStart, error) {
	job := p.job
	w := job.Workload
	m := pyStart{
		Op: "start", Strategy: p.name,
		Params:  pyParamsOf(job),
		Session: pySession{GraphOptimization: job.Options.GraphOptimization, MemArena: job.Options.MemArena, MemPattern: job.Options.MemPattern},
	}
	for _, l := range w.Layout() {
		m.Layout = append(m.Layout, pyOutput{Name: l.Name, Kind: kindWord(l.Kind), Width: l.Width})
	}
	switch w := w.(type) {
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
		m.Workload = pyWorkload{Kind: "onnx", Model: model, Dataset: data, Features: w.Table().FeatureNames, Rows: w.Rows(), Width: w.Width()}
	case *workload.Heavy:
		m.Workload = pyWorkload{Kind: "heavy-task", Rows: w.Rows(), Width: 1, Cost: w.Cost()}
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
	cmd := exec.Command(interp, "-m", "ortbench_py.runner")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+joinPath(dir, os.Getenv("PYTHONPATH")))
	cmd.SysProcAttr = pySysProcAttr()
	p.stderr = &tailWriter{max: 16 << 10}
	cmd.Stderr = p.stderr
	cmd.WaitDelay = 5 * time.Second // a straggler holding stderr cannot hang Wait
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	// Our own pipe, not StdoutPipe: Wait must not close it under a reader.
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("%w: starting %s: %v", ErrSkip, interp, err)
	}
	p.pipe = r
	p.stdout = bufio.NewReaderSize(r, 1<<16)
	p.cmd, p.pid = cmd, cmd.Process.Pid
	p.exited = make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	var ready pyReply
	if err := p.exchange(ctx, msg, &ready, nil); err != nil {
		return err
	}
	p.info = ready.pyReady
	return nil
}

// exchange sends msg, reads the reply's header into r and, if body is set,
// lets it read what follows. A cancelled ctx kills the runner (a pass cannot
// be interrupted otherwise) and the call returns ctx's error.
func (p *python) exchange(ctx context.Context, msg any, r *pyReply, body func(*pyReply) error) error {
	stop := context.AfterFunc(ctx, p.kill)
	defer stop()
	err := p.roundTrip(msg, r, body)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (p *python) roundTrip(msg any, r *pyReply, body func(*pyReply) error) error {
	line, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return p.died(err)
	}
	head, err := p.stdout.ReadBytes('\n')
	if err != nil {
		return p.died(err)
	}
	if err := json.Unmarshal(head, r); err != nil {
		return fmt.Errorf("python runner: bad reply %.200q: %v", head, err)
	}
	if !r.OK {
		err := fmt.Errorf("python runner: %s", r.Error)
		if r.Traceback != "" {
			err = fmt.Errorf("%w\n%s", err, strings.TrimSpace(r.Traceback))
		}
		if r.Skip {
			err = fmt.Errorf("%w: %w", ErrSkip, err)
		}
		return err
	}
	if body != nil {
		if err := body(r); err != nil {
			return err
		}
	}
	return nil
}

// died explains a broken pipe: the runner's exit status and its last words.
func (p *python) died(err error) error {
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	status := "still running"
	select {
	case <-p.exited:
		status = "exited"
		if p.err != nil {
			status = p.err.Error()
		}
	default:
	}
	msg := fmt.Sprintf("python runner (%s): %v", status, err)
	if tail := strings.TrimSpace(p.stderr.String()); tail != "" {
		msg += "\n" + tail
	}
	return errors.New(msg)
}

func (p *python) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	var r pyReply
	err := p.exchange(ctx, struct {
		Op string `json:"op"`
		N  int    `json:"n"`
	}{"pass", n}, &r, func(r *pyReply) error { return p.readPass(r, n, out) })
	if err != nil {
		return err
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

// readPass checks a pass reply's blocks against the layout and reads them:
// latencies into p.lat, outputs into out at rows 0..r.Rows-1.
func (p *python) readPass(r *pyReply, n int, out *workload.Outputs) error {
	rows := min(n*out.BatchSize, out.Rows)
	want := []pyBlock{{Name: "latency_ns", Kind: "int64", Count: n}}
	for _, l := range out.Layout {
		want = append(want, pyBlock{Name: l.Name, Kind: kindWord(l.Kind), Count: rows * l.Width})
	}
	if r.N != n || r.Rows != rows || len(r.Blocks) != len(want) {
		return fmt.Errorf("python runner: pass of %d batches answered with %d batches, %d rows, %d blocks (want %d, %d, %d)",
			n, r.N, r.Rows, len(r.Blocks), n, rows, len(want))
	}
	for i, b := range r.Blocks {
		if b != want[i] {
			return fmt.Errorf("python runner: block %d is %+v, want %+v", i, b, want[i])
		}
	}
	if cap(p.lat) < n {
		p.lat = make([]int64, n)
	}
	p.lat = p.lat[:n]
	if err := p.readBlock(bytesOf(p.lat)); err != nil {
		return err
	}
	for k, l := range out.Layout {
		cnt := rows * l.Width
		var dst []byte
		if l.Kind == onnx.Int64 {
			dst = bytesOf(out.I64[k][:cnt])
		} else {
			dst = bytesOf(out.F32[k][:cnt])
		}
		if err := p.readBlock(dst); err != nil {
			return err
		}
	}
	return nil
}

func (p *python) readBlock(dst []byte) error {
	if _, err := io.ReadFull(p.stdout, dst); err != nil {
		return p.died(err)
	}
	return nil
}

// bytesOf views a slice of int64 or float32 as its bytes (little-endian on
// every platform ortbench runs on, as Python writes them).
func bytesOf[T int64 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

func (p *python) Recorders() int { return 1 }

// PIDs is the runner process and every process under it (pool workers, the
// forkserver, multiprocessing's resource tracker), so memory and CPU are the
// whole tree's.
func (p *python) PIDs() []int {
	if p.cmd == nil || p.closed {
		return nil
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	return processTree(p.pid)
}

// Report says which Python build ran the cell (the cell's extra).
func (p *python) Report() map[string]any {
	if p.info.PID == 0 {
		return nil
	}
	py := p.info.Python
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
		"python_onnxruntime_version": p.info.ORT.Version,
		"python_onnxruntime_library": p.info.ORT.Library,
	}
}

// kill kills the runner's process group. Safe to call from any goroutine
// (it reads only pid, set before any caller exists).
func (p *python) kill() {
	if p.pid > 0 {
		killTree(p.pid)
	}
}

// Close asks the runner to quit, waits for it (and its pool) to exit, and
// kills what is left of its process group after pyQuitTimeout.
func (p *python) Close() error {
	if p.cmd == nil || p.closed {
		return nil
	}
	p.closed = true
	var err error
	select {
	case <-p.exited:
	default:
		done := make(chan error, 1)
		go func() {
			var r pyReply
			done <- p.roundTrip(map[string]string{"op": "quit"}, &r, nil)
		}()
		select {
		case err = <-done:
			if err == nil {
				select {
				case <-p.exited:
				case <-time.After(pyQuitTimeout):
					err = fmt.Errorf("python runner did not exit %s after quit; killed", pyQuitTimeout)
				}
			}
		case <-p.exited:
		case <-time.After(pyQuitTimeout):
			err = fmt.Errorf("python runner did not answer quit in %s; killed", pyQuitTimeout)
		}
		if err != nil {
			p.kill()
		}
	}
	p.stdin.Close()
	p.kill() // stragglers in the group; the leader has exited or is killed
	<-p.exited
	p.pipe.Close()
	removeShared(p.pid)
	return err
}

// removeShared deletes the shared-memory blocks a runner that was killed
// could not unlink (the runner names them ortbench-PID-K).
func removeShared(pid int) {
	leftover, _ := filepath.Glob(fmt.Sprintf("/dev/shm/ortbench-%d-*", pid))
	for _, f := range leftover {
		_ = os.Remove(f)
	}
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

// tailWriter keeps the last max bytes written to it. Safe for concurrent use.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
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
func pyParamsOf(job *Job) pyParams {
	sh, b := job.Shape(), job.Config.Common()
	p := pyParams{BatchSize: b.BatchSize, Workers: max(sh.Workers, 1), Threads: max(sh.Threads, 1), Spinning: b.Spinning}
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

type pySequentialConfig struct {
	Base
}

func (c *pySequentialConfig) Validate() []error { return nil }
func (c *pySequentialConfig) Shape() Shape      { return Shape{Workers: 1, Threads: 1} }
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

func (c *pyIntraOpConfig) Validate() []error { return collect(atLeast("threads", c.Threads, 1)) }
func (c *pyIntraOpConfig) Shape() Shape      { return Shape{Workers: 1, Threads: c.Threads} }
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

func (c *pyAsyncioConfig) Validate() []error { return collect(atLeast("workers", c.Workers, 1)) }
func (c *pyAsyncioConfig) Shape() Shape      { return Shape{Workers: c.Workers, Threads: 1} }
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
