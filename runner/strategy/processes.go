package strategy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/procpool"
	"github.com/ortbench/ortbench/runner/stats"
	"github.com/ortbench/ortbench/runner/workload"
)

// Start modes of the processes strategy.
const (
	StartPerRun = "per-run" // workers started for every pass, like a Pool per call
	StartWarm   = "warm"    // one pool started at Start and reused, like a forkserver
)

// Timeouts of the processes strategy. A task's deadline is derived from the
// cell: generous until a batch has been timed, then a multiple of the
// slowest batch seen, so a stuck worker is caught in seconds, not minutes.
const (
	startTimeout        = 2 * time.Minute
	firstTaskTimeout    = time.Minute
	minTaskTimeout      = 10 * time.Second
	taskTimeoutFactor   = 50
	stopGrace           = 5 * time.Second
	workerSubcommand    = "worker"
	processesMinWorkers = 1
)

// processes runs N worker processes of ortbench itself (the hidden `worker`
// subcommand), each with its own session and intra-op threads, fed one
// batch at a time over pipes (package procpool). Data travels copied into
// every task as Arrow IPC ("copy"), through one Arrow IPC file that every
// worker memory-maps ("shared"), or not at all: every worker loads the whole
// dataset itself ("replicate", the unshared pattern whose memory the study
// warns about). Workers start once per cell ("warm") or once per pass
// ("per-run", start-up timed apart).
//
// It reports its worker PIDs so the runner samples the whole process tree's
// RSS, PSS and USS, and TreeCPU so workers that exit during a pass keep
// their CPU time.
type processes struct {
	job     *Job
	cfg     *processesConfig
	start   procpool.StartMsg
	command []string
	shared  *os.File // the workload's shared rows (unlinked, held open by the workload), passed to every worker

	// taskTimeout fixes the per-task deadline (tests); 0 derives it.
	taskTimeout time.Duration
	slowest     atomic.Int64 // slowest batch so far, ns

	mu        sync.Mutex // guards what the sampler reads while a pass runs
	clients   []*procpool.Client
	exitedCPU metrics.CPUTimes
	startups  []float64      // per-run: worker start-up of each pass, seconds
	roles     map[int]string // pid → "worker i", every worker ever started
	compute   time.Duration
	roundTrip time.Duration
	broken    error // a failed pass leaves the pool unusable
}

var (
	_ Strategy    = (*processes)(nil)
	_ RowServer   = (*processes)(nil)
	_ ProcessTree = (*processes)(nil)
	_ TreeCPU     = (*processes)(nil)
	_ Reporter    = (*processes)(nil)
)

func (p *processes) Start(ctx context.Context, job *Job) error {
	p.job = job
	if len(job.Command) == 0 {
		return errors.New("processes: no worker command (the runner sets Job.Command to the ortbench binary)")
	}
	rw, ok := job.Workload.(workload.Remoter)
	if !ok {
		return fmt.Errorf("processes: a %s workload cannot run in a worker process", job.Workload.Kind())
	}
	p.command = append(slices.Clone(job.Command), workerSubcommand)
	par := job.Config.(*processesConfig)
	p.cfg = par
	p.start = procpool.StartMsg{
		Workload:  rw.Remote(),
		Options:   job.sessionOptions(par.Threads, 1, false),
		Rows:      job.Workload.Rows(),
		BatchSize: max(par.BatchSize, slices.Max(append([]int{0}, job.RowCounts...))), // a server's calls may be larger
		Transport: par.Transport,
	}
	if job.Workload.UsesORT() {
		p.start.Library = onnx.LibraryPath()
		if par.Library != "" {
			p.start.Library = par.Library
			if !strings.Contains(par.Library, "/") { // a build name (validated)
				lib, err := onnx.BuildLibrary(par.Library)
				if err != nil {
					return err
				}
				p.start.Library = lib
			}
		}
	}
	if par.Transport == procpool.TransportShared {
		// The workload's own rows, moved into shared memory once (the
		// runner does it before the reference pass): the workers map the
		// pages this process reads, no second copy (workload.Sharer).
		f, err := workload.Share(job.Workload)
		if err != nil {
			return err
		}
		if f == nil {
			return fmt.Errorf("processes: a %s workload cannot share its rows", job.Workload.Kind())
		}
		p.shared, p.start.SharedPath = f, procpool.SharedFDPath
	}
	if par.Start == StartWarm {
		return p.spawn(ctx)
	}
	return nil
}

// spawn starts the workers concurrently, as a pool does.
func (p *processes) spawn(ctx context.Context) error {
	n := p.cfg.Workers
	clients := make([]*procpool.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			msg := p.start
			msg.Worker = i
			threads := max(p.cfg.Threads, 1)
			if p.job.pinned() {
				msg.Options.IntraOpAffinity = intraOpAffinity(p.job.layout(), i, threads)
			}
			var extra []*os.File
			if p.shared != nil {
				extra = append(extra, p.shared) // fd procpool.SharedFD
			}
			clients[i], errs[i] = procpool.Spawn(ctx, p.command, msg, startTimeout, extra...)
			if errs[i] == nil && p.job.pinned() {
				// Every thread the worker has by now (ORT's pool included).
				errs[i] = pinProcess(clients[i].PID(), p.job.layout(), i, threads)
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	for i, c := range clients {
		if c != nil {
			p.clients = append(p.clients, c)
			if p.roles == nil {
				p.roles = map[int]string{}
			}
			p.roles[c.PID()] = fmt.Sprintf("worker %d", i)
		}
	}
	p.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return errors.Join(err, p.stop(false))
	}
	for _, c := range clients {
		if !slices.Equal(c.Ready.Layout, p.job.Workload.Layout()) {
			return errors.Join(fmt.Errorf("worker %d (pid %d): output layout %v differs from this process's %v", c.ID, c.PID(), c.Ready.Layout, p.job.Workload.Layout()), p.stop(false))
		}
	}
	return nil
}

// stop ends every worker (politely, or by SIGKILL) and keeps their CPU time.
func (p *processes) stop(polite bool) error {
	p.mu.Lock()
	clients := p.clients
	p.mu.Unlock()
	var errs []error
	for _, c := range clients {
		if polite {
			errs = append(errs, c.Stop(stopGrace))
		} else {
			c.Kill()
		}
	}
	p.mu.Lock()
	for _, c := range clients {
		if u, s, ok := c.Exited(); ok {
			p.exitedCPU = p.exitedCPU.Add(metrics.CPUTimes{User: u, System: s})
		}
	}
	p.clients = nil
	p.mu.Unlock()
	return errors.Join(errs...)
}

func (p *processes) timeout() time.Duration {
	if p.taskTimeout > 0 {
		return p.taskTimeout
	}
	s := time.Duration(p.slowest.Load())
	if s == 0 {
		return firstTaskTimeout
	}
	return max(minTaskTimeout, taskTimeoutFactor*s)
}

func (p *processes) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) (err error) {
	if p.broken != nil {
		return fmt.Errorf("the worker pool is unusable after an earlier failure: %w", p.broken)
	}
	defer func() {
		if err != nil {
			p.broken = err
		}
	}()
	if p.cfg.Start == StartPerRun {
		if err := p.spawnTimed(ctx); err != nil {
			return err
		}
		defer func() {
			if serr := p.stop(err == nil); err == nil {
				err = serr
			}
		}()
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.mu.Lock()
	clients := slices.Clone(p.clients)
	p.mu.Unlock()
	interrupt := context.AfterFunc(pctx, func() {
		for _, c := range clients {
			c.Interrupt()
		}
	})
	pp := &procPass{p: p, ctx: pctx, cancel: cancel, n: n, out: out, timeout: p.timeout(),
		errs: make([]error, len(clients)), computes: make([]time.Duration, len(clients)), trips: make([]time.Duration, len(clients))}
	if workload.Streams(p.job.Workload) {
		if pp.stream, err = newProcStream(p.job, out, len(clients)); err != nil {
			return err
		}
		defer pp.stream.close()
	}
	var wg sync.WaitGroup
	for k, c := range clients {
		// A sender keeps up to pipelineDepth tasks ahead of the receiver,
		// so the worker finds its next task waiting instead of idling for
		// a round trip.
		inflight := make(chan sent, pipelineDepth-1) // plus the one the receiver waits for
		wg.Go(func() { pp.send(k, c, inflight) })
		wg.Go(func() { pp.receive(k, c, recs.Get(k), inflight) })
	}
	wg.Wait()
	if !interrupt() && ctx.Err() != nil {
		// The context was cancelled: the interrupted workers are gone.
		return errors.Join(ctx.Err(), firstCause(pp.errs))
	}
	if err := firstCause(pp.errs); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.mu.Lock()
	for k := range clients {
		p.compute += pp.computes[k]
		p.roundTrip += pp.trips[k]
	}
	p.mu.Unlock()
	return nil
}

// spawnTimed starts the workers (start: per-run) and records how long
// that took.
func (p *processes) spawnTimed(ctx context.Context) error {
	t0 := time.Now()
	if err := p.spawn(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	p.startups = append(p.startups, time.Since(t0).Seconds())
	p.mu.Unlock()
	return nil
}

// procPass is one pass over the worker processes: per worker a sender and
// a receiver goroutine, joined by a channel of the tasks in flight.
type procPass struct {
	p       *processes
	ctx     context.Context // the pass's: cancelled by the first failure
	cancel  context.CancelFunc
	n       int
	out     *workload.Outputs
	stream  *procStream // a streamed workload: batches read from its file (streaming.go)
	timeout time.Duration
	next    atomic.Int64 // the next batch to send (in memory)

	errMu    sync.Mutex
	errs     []error         // per worker, its first failure
	computes []time.Duration // per worker: its compute time, as it reports it
	trips    []time.Duration // per worker: send to result
}

// fail records worker k's failure (the first is the cause; the rest follow
// from it) and stops the pass.
func (pp *procPass) fail(k int, err error) {
	pp.errMu.Lock()
	if pp.errs[k] == nil {
		pp.errs[k] = err
	}
	pp.errMu.Unlock()
	pp.cancel()
}

// task is the next batch for worker k: its index, first row, rows and
// data; i outside 0..n-1 when there is none.
func (pp *procPass) task(k int) (i, first, m int, in []byte, err error) {
	if pp.stream != nil {
		return pp.stream.take(k, pp.n)
	}
	w := pp.p.job.Workload
	if i = int(pp.next.Add(1) - 1); i < pp.n {
		width := w.RecordBytes()
		first, m = workload.Span(i, pp.p.job.BatchSize(), w.Rows())
		in = w.Data()[first*width : (first+m)*width]
	}
	return i, first, m, in, nil
}

// send sends worker k its batches, at most pipelineDepth ahead.
func (pp *procPass) send(k int, c *procpool.Client, inflight chan<- sent) {
	defer close(inflight)
	for {
		i, first, m, in, err := pp.task(k)
		if err != nil {
			pp.fail(k, err)
			return
		}
		if i < 0 || i >= pp.n || pp.ctx.Err() != nil {
			return
		}
		t := sent{batch: i, first: first, rows: m, at: time.Now()}
		select {
		case inflight <- t: // a free slot: at most pipelineDepth in flight
		case <-pp.ctx.Done():
			return
		}
		if err := c.Send(i, first, m, in, pp.timeout); err != nil {
			pp.fail(k, err)
			return
		}
	}
}

// receive takes worker k's results in order, records each batch's latency
// and delivers its outputs.
func (pp *procPass) receive(k int, c *procpool.Client, rec *metrics.Recorder, inflight <-chan sent) {
	p, stream := pp.p, pp.stream
	var slowest time.Duration
	defer func() {
		for s := p.slowest.Load(); int64(slowest) > s && !p.slowest.CompareAndSwap(s, int64(slowest)); s = p.slowest.Load() {
		}
	}()
	var prev time.Time
	for t := range inflight {
		into, at := pp.out, t.first
		if stream != nil {
			into, at = stream.wins[k], 0 // the batch's own window
		}
		comp, err := c.Receive(t.batch, at, t.rows, into, pp.timeout)
		if err != nil {
			pp.fail(k, err)
			for range inflight { // let the sender finish
			}
			return
		}
		done := time.Now()
		// A batch's latency runs from when the worker could start it: its
		// sending, or the previous result if it queued behind that one.
		d := done.Sub(later(t.at, prev))
		prev = done
		rec.Record(d)
		if stream != nil {
			stream.deliver(k, t.batch, t.first, t.rows)
		} else {
			pp.out.Done(t.batch)
		}
		pp.computes[k] += comp
		pp.trips[k] += d
		slowest = max(slowest, d)
	}
}

// pipelineDepth is how many tasks a worker may have in flight.
const pipelineDepth = 2

// sent is a task on its way to a worker.
type sent struct {
	batch, first, rows int
	at                 time.Time
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// firstCause picks the error that explains a failed pass: a worker's own
// failure rather than the interruptions it caused in the others.
func firstCause(errs []error) error {
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ServeRows runs rows first..first+n−1 on worker process w into out and
// waits for them: the worker processes' serving side (runner/serve drives
// one request at a time per worker). The pool must be warm.
func (p *processes) ServeRows(w, first, n int, out *workload.Outputs) error {
	p.mu.Lock()
	clients := p.clients
	p.mu.Unlock()
	if w < 0 || w >= len(clients) {
		return fmt.Errorf("processes: no worker %d to serve (server load needs start: warm)", w)
	}
	width := p.job.Workload.RecordBytes()
	t0 := time.Now()
	_, err := clients[w].Run(first, first, n, p.job.Workload.Data()[first*width:(first+n)*width], out, p.timeout())
	if took := int64(time.Since(t0)); err == nil {
		for s := p.slowest.Load(); took > s && !p.slowest.CompareAndSwap(s, took); s = p.slowest.Load() {
		}
	}
	return err
}

func (p *processes) Recorders() int { return p.cfg.Workers }

func (p *processes) Close() error {
	p.shared = nil // the workload's: it outlives the cell
	return p.stop(p.broken == nil)
}

// Roles names every worker process this strategy has started by pid
// ("worker 0", …), for the cell's per-process memory. Safe for concurrent
// use.
func (p *processes) Roles() map[int]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.roles)
}

// PIDs lists the live workers, for the runner's memory and CPU sampler.
// Safe for concurrent use.
func (p *processes) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, len(p.clients))
	for i, c := range p.clients {
		pids[i] = c.PID()
	}
	return pids
}

// TreeCPU is the CPU time of every worker this strategy has run: live ones
// from /proc, exited ones from the kernel's rusage at exit (per-run workers
// exit inside the pass the runner times). Safe for concurrent use.
func (p *processes) TreeCPU() metrics.CPUTimes {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, len(p.clients))
	for i, c := range p.clients {
		pids[i] = c.PID()
	}
	return p.exitedCPU.Add(metrics.TreeCPU(pids))
}

// Report is what the runner adds to the cell's extra figures.
func (p *processes) Report() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := map[string]any{"task_timeout_seconds": p.timeout().Seconds()}
	if len(p.startups) > 0 {
		r["worker_startup_seconds"] = slices.Clone(p.startups)
		r["worker_startup_median_seconds"] = stats.Median(p.startups)
	}
	if p.roundTrip > 0 {
		r["worker_compute_seconds"] = p.compute.Seconds()
		r["round_trip_seconds"] = p.roundTrip.Seconds()
		r["transport_overhead_fraction"] = 1 - p.compute.Seconds()/p.roundTrip.Seconds()
	}
	if p.shared != nil {
		r["shared_file"] = p.shared.Name() + " (unlinked, held open)"
		if st, err := p.shared.Stat(); err == nil {
			r["shared_file_bytes"] = st.Size()
		}
	}
	return r
}

// processesConfig: N worker processes of ortbench, each with its own session.
type processesConfig struct {
	Workers   int    `key:"workers" auto:"cores"`
	Threads   int    `key:"threads" ort:"true" auto:"cores"`
	Transport string `key:"transport"`
	Start     string `key:"start"`
	// Library is the ONNX Runtime shared library the workers load ("" =
	// the run's own). A process loads one ORT build, so two builds are
	// compared in one interleaved run through worker processes:
	// library: [/opt/a/libonnxruntime.so, /opt/b/libonnxruntime.so].
	Library string `key:"library" ort:"true"`
	Pinning
	Base
}

func (c *processesConfig) Validate() []error {
	return collect(
		atLeast("workers", c.Workers, processesMinWorkers), atLeast("threads", c.Threads, 1),
		oneOf("transport", c.Transport, procpool.Transports),
		oneOf("start", c.Start, []string{StartPerRun, StartWarm}),
		checkLibrary(c.Library))
}

// checkLibrary: an absolute path to a file (the resolved config keeps
// strategy entries as written, so a relative one would not re-run from the
// results folder).
func checkLibrary(path string) error {
	if path == "" {
		return nil
	}
	if !strings.Contains(path, "/") { // a build `make` put under .ort/
		if _, err := onnx.BuildLibrary(path); err != nil {
			return keyErr("library", "%v", err)
		}
		return nil
	}
	if !filepath.IsAbs(path) {
		return keyErr("library", "%q: give an absolute path to a libonnxruntime.so (1.29 or newer), or a build's folder name under .ort/ (pypi-1.32.0)", path)
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return keyErr("library", "%s: no such file", path)
	}
	if err := onnx.CheckLibraryFile(path); err != nil {
		return keyErr("library", "%v", err)
	}
	return nil
}

// Serving is its shape under server load: each worker process serves
// requests one at a time, fed by runner/serve through ServeRows (the pool
// must be warm: start: warm).
func (c *processesConfig) Serving() Serving {
	return Serving{Servers: c.Workers, MaxBatch: 1}
}

// Resources: a process and a session per worker; copy streams batches
// (no copy held), shared has every worker map the runner's own rows (moved
// into /dev/shm), replicate has every worker load the whole dataset.
func (c *processesConfig) Resources() Resources {
	r := Resources{Sessions: c.Workers, Processes: c.Workers}
	switch c.Transport {
	case procpool.TransportShared:
		r.SharedData = true
	case procpool.TransportReplicate:
		r.DataCopies = c.Workers
	}
	return r
}

func (c *processesConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *processesConfig) Describe() string {
	lib := ""
	if c.Library != "" {
		lib = ", ORT from " + c.Library
		if v := onnx.LibraryFileVersion(c.Library); v != "" && filepath.IsAbs(c.Library) { // read from the file, not loaded
			lib = ", ORT " + v + " from " + c.Library
		}
	}
	return fmt.Sprintf("processes: %s%s, transport %s, start %s%s, batch %d",
		plural(c.Workers, "worker process"), sessionWord(&c.Base, c.Threads, "own session"), c.Transport, c.Start, lib, c.BatchSize)
}

func processesDef() Definition {
	return Definition{
		Name:     "processes",
		Summary:  "N worker processes of ortbench, each with its own session; data copied over a pipe, loaded by every worker (replicate) or shared through a memory-mapped Arrow IPC file",
		Baseline: "sequential",
		NewConfig: func() Config {
			return &processesConfig{Threads: 1, Transport: procpool.TransportShared, Start: StartWarm}
		},
		New: func() Strategy { return &processes{} },
	}
}
