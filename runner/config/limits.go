package config

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/regular"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Limits that keep a plan within what the machine can run. A number
// outside its range is an error that states the range, never a value
// clamped or replaced in silence.
//
// Threads: a cell may keep at most oversubscribe × logical cores threads
// busy (workers × intra-op threads × inter-op threads, its
// strategy.Shape.Cores). The default factor, DefaultOversubscribe, lets
// every shipped config run on two cores (hybrid 2 × 2 is 2× over) and
// still warns beyond the core count; `oversubscribe: N` goes further, up to
// MaxOversubscribe, and no cell may ask for more than MaxThreads whatever
// the factor. Why those ceilings: at 64 runnable threads per core each
// waits ~64 scheduler slices (~200 ms) for its turn, so the figures
// measure the kernel's scheduler, not the strategy; and 4096 threads is
// already near the default per-user process limit of many systems, where
// thread creation starts failing half-way through a cell.
const (
	DefaultOversubscribe = 4
	MaxOversubscribe     = 64
	MaxThreads           = 4096
	// MaxCells bounds the expanded plan (a sweep's cartesian product).
	MaxCells = 1000
)

// intRanges are the inclusive bounds of the top-level numbers; low marks
// those whose lower bound Expand does not already check with its own message.
var intRanges = []struct {
	key      string
	get      func(c *Config) int
	min, max int
	low      bool
}{
	{"warmup_batches", func(c *Config) int { return c.WarmupBatches }, 0, 1_000_000, false},
	{"repetitions", func(c *Config) int { return c.Repetitions }, 1, 1000, false},
	{"workload.rows", func(c *Config) int { return c.Workload.Rows }, 0, math.MaxInt32, false},
	{"oversubscribe", func(c *Config) int { return c.Oversubscribe }, 1, MaxOversubscribe, true},
}

var durationRanges = []struct {
	key      string
	get      func(c *Config) time.Duration
	min, max time.Duration
	low      bool
}{
	{"min_duration", func(c *Config) time.Duration { return c.MinDuration }, 0, time.Hour, false},
	// 0 would be replaced by the sampler's own default: refused instead.
	{"sample_interval", func(c *Config) time.Duration { return c.SampleInterval }, 5 * time.Millisecond, time.Minute, true},
}

// MaxBatchSize is the largest batch (rows per inference call).
const MaxBatchSize = 1 << 20

// checkRanges reports every top-level number outside its range, and
// every path-like value that could write outside output.dir.
func checkRanges(c *Config, bad func(key, format string, args ...any)) {
	for _, r := range intRanges {
		if v := r.get(c); (r.low && v < r.min) || v > r.max {
			bad(r.key, "%d is out of range (%d to %d)", v, r.min, r.max)
		}
	}
	for _, r := range durationRanges {
		if v := r.get(c); (r.low && v < r.min) || v > r.max {
			bad(r.key, "%s is out of range (%s to %s)", v, r.min, r.max)
		}
	}
	if c.Workload.Kind == "heavy-task" {
		if c.Workload.Items > 1<<24 {
			bad("workload.items", "%d is out of range (1 to %d)", c.Workload.Items, 1<<24)
		}
		if c.Workload.Cost > 1<<32 {
			bad("workload.cost", "%d is out of range (1 to %d)", c.Workload.Cost, int64(1)<<32)
		}
	}
	if s := c.UnstableSpread; s > 100 {
		bad("unstable_spread", "%g is out of range (above 0, at most 100)", s)
	}
	for i, b := range c.BatchSizes {
		if b > MaxBatchSize {
			bad(fmt.Sprintf("batch_sizes[%d]", i), "%d is out of range (1 to %d)", b, MaxBatchSize)
		}
	}
	if err := SafeName(c.Name); err != nil {
		bad("name", "%v", err)
	}
	for _, k := range []struct{ key, val string }{
		{"output.dir", c.Output.Dir}, {"workload.model", c.Workload.Model},
		{"workload.dataset.path", c.Workload.Dataset.Path}, {"verify.expected", c.Verify.Expected},
		{"onnxruntime.library", c.ONNXRuntime.Library},
	} {
		if strings.ContainsRune(k.val, 0) {
			bad(k.key, "contains a NUL byte")
		}
	}
	expandHome(c, bad)
	checkInputFiles(c, bad)
}

// expandHome expands a leading "~/" (or a lone "~") in the path keys to
// the home directory, as a shell would: without it `output.dir: ~/x`
// wrote into a folder literally named "~". "~user/" is refused: it names
// another user's home, which is the shell's business.
func expandHome(c *Config, bad func(key, format string, args ...any)) {
	for _, k := range []struct {
		key string
		val *string
	}{
		{"output.dir", &c.Output.Dir}, {"workload.model", &c.Workload.Model},
		{"workload.dataset.path", &c.Workload.Dataset.Path}, {"verify.expected", &c.Verify.Expected},
		{"onnxruntime.library", &c.ONNXRuntime.Library},
	} {
		v := *k.val
		if !strings.HasPrefix(v, "~") {
			continue
		}
		if v != "~" && !strings.HasPrefix(v, "~/") {
			bad(k.key, "%q: ~user is not expanded: write the path out", v)
			continue
		}
		home, err := os.UserHomeDir()
		if err != nil {
			bad(k.key, "%q: cannot expand ~: %v", v, err)
			continue
		}
		*k.val = filepath.Join(home, strings.TrimPrefix(v, "~"))
	}
}

// checkInputFiles refuses inputs that exist but are not regular files (a
// FIFO's open blocks until a writer comes, a device never ends) before
// anything opens them. Missing ones are the loaders' to report; a dataset
// glob matches regular files only.
func checkInputFiles(c *Config, bad func(key, format string, args ...any)) {
	for _, k := range []struct{ key, val string }{
		{"workload.model", c.Workload.Model}, {"workload.dataset.path", c.Workload.Dataset.Path},
		{"verify.expected", c.Verify.Expected},
	} {
		if k.val == "" || strings.ContainsRune(k.val, 0) {
			continue
		}
		path := c.Abs(k.val)
		if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			bad(k.key, "%s: %s, want a regular file", path, regular.Kind(st.Mode()))
		}
	}
}

// SafeName checks that name can be one folder inside output.dir: results
// go to <output.dir>/<name>/<timestamp>, so a name with a separator or
// "..", NUL or control characters would write elsewhere or fail late.
func SafeName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("must not be empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a folder name; results go to <output.dir>/<name>/", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%q contains a path separator; results go to <output.dir>/<name>/, so the name must be one folder name", name)
	case len(name) > 128:
		return fmt.Errorf("%d bytes long (at most 128)", len(name))
	}
	for _, r := range name {
		if r == 0 {
			return fmt.Errorf("%q contains a NUL byte", name)
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%q contains a control character", name)
		}
	}
	return nil
}

// sweepSize is how many cells a strategies[] entry asks for before
// expansion: the product of its lists' lengths and its batch sizes.
func sweepSize(c *Config, raw map[string]any) int {
	n := max(len(c.BatchSizes), 1)
	for k, v := range raw {
		if l, ok := v.([]any); ok && len(l) > 0 {
			n *= len(l)
			if strings.EqualFold(k, "batch_sizes") {
				n /= max(len(c.BatchSizes), 1)
			}
		}
		if n > MaxCells {
			return n
		}
	}
	return n
}

// cellLimit checks a cell's thread count against the machine (see the
// limits above); it returns the key to blame and the problem, or "".
func cellLimit(c *Config, key string, cell Cell, m Machine) (string, string) {
	sh := cell.Config.Shape()
	want := sh.Cores()
	cores := m.LogicalCores
	if cores < 1 {
		cores = 1
	}
	factor := c.Oversubscribe
	if factor < 1 {
		factor = DefaultOversubscribe
	}
	limit := min(cores*factor, MaxThreads)
	if want <= limit {
		return "", ""
	}
	blame := key + ".workers"
	switch {
	case sh.InterOp > 1 && sh.InterOp >= sh.Threads && sh.InterOp >= sh.Workers:
		blame = key + ".inter_op_threads"
	case sh.Threads > sh.Workers:
		blame = key + ".threads"
	}
	what := fmt.Sprintf("%d threads (workers × threads)", want)
	if sh.Workers <= 1 {
		what = fmt.Sprintf("%d threads", want)
	}
	if limit == MaxThreads {
		return blame, fmt.Sprintf("%s: %s; at most %d per cell whatever oversubscribe says", cell.Name, what, MaxThreads)
	}
	hint := fmt.Sprintf("to allow N × the cores set oversubscribe: N, at most %d", MaxOversubscribe)
	if factor >= MaxOversubscribe {
		hint = fmt.Sprintf("oversubscribe is at its ceiling, %d", MaxOversubscribe)
	}
	return blame, fmt.Sprintf("%s: %s on %d logical cores; at most %d (oversubscribe %d × %d cores; %s)",
		cell.Name, what, cores, limit, factor, cores, hint)
}

// Footprint is what the memory estimate needs to know about the workload.
type Footprint struct {
	// ModelBytes is the model file's size (0 for the heavy task).
	ModelBytes int64
	// DataBytes is the dataset's features in memory (rows × width × 4),
	// or, before loading, the file's size.
	DataBytes int64
	// Rows and RowBytes are rows per pass and one row's feature bytes
	// (0: unknown).
	Rows     int
	RowBytes int64
}

// Memory estimate constants: what one more of each costs, rounded up.
const (
	processBytes = 64 << 20  // one ortbench or Python process, before data
	sessionBytes = 16 << 20  // one ORT session besides its weights (arena, plan)
	threadBytes  = 256 << 10 // stack and thread-local buffers touched per thread
	modelFactor  = 3         // a session holds the weights about this many times (file, initialisers, optimised graph)
)

// EstimateMemory is a conservative estimate of the memory a cell needs
// at its peak: the dataset and its outputs, every session (model size ×
// modelFactor each), threads, latency recorders (one per worker that
// records, at most one per batch of a pass), pipeline queues, and for
// worker processes each process and its copy of the data.
func EstimateMemory(cell Cell, f Footprint) uint64 {
	sh := cell.Config.Shape()
	workers := int64(max(sh.Workers, 1))
	ort := !cell.Config.Common().Facts.NoORT
	batch := int64(max(cell.Config.Common().BatchSize, 1))
	total := int64(processBytes) + 2*f.DataBytes // the data, the reference and the cell's outputs
	res := strategy.ResourcesOf(cell.Config)
	sessions, procs, dataCopies := int64(max(res.Sessions, 1)), int64(res.Processes), int64(res.DataCopies)
	if ort {
		total += sessions * (modelFactor*f.ModelBytes + sessionBytes)
	}
	total += procs*processBytes + dataCopies*f.DataBytes
	total += int64(sh.Cores()) * threadBytes
	recorders := workers
	if f.Rows > 0 {
		recorders = min(recorders, (int64(f.Rows)+batch-1)/batch)
	}
	total += (recorders + 2) * int64(metrics.RecorderBytes())
	if q := cell.Params.Int("queue_depth"); q > 0 {
		total += 2 * int64(q) * batch * max(f.RowBytes, 4)
	}
	return uint64(max(total, 0))
}

// CheckMemory refuses, before anything runs, every cell whose estimated
// peak (EstimateMemory) exceeds available bytes (0: unknown, not checked).
func (p *Plan) CheckMemory(f Footprint, available uint64) error {
	if available == 0 {
		return nil
	}
	var errs Errors
	for _, cell := range p.Cells {
		if need := EstimateMemory(cell, f); need > available {
			errs = append(errs, p.Config.Errorf(p.keyOf(cell), "%s: needs about %s of memory (estimated: sessions, data, threads, recorders, queues), %s available",
				cell.Name, results.Bytes(need), results.Bytes(available)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// keyOf is the strategies[] entry a cell came from.
func (p *Plan) keyOf(cell Cell) string {
	if k, ok := p.entries[cell.Name]; ok {
		return k
	}
	return "strategies"
}

// AvailableMemory is the kernel's MemAvailable (and the cgroup's limit
// less its usage, when lower) in bytes; 0 when unknown.
func AvailableMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var avail uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			avail = kb << 10
		}
	}
	limit, err1 := os.ReadFile("/sys/fs/cgroup/memory.max")
	usage, err2 := os.ReadFile("/sys/fs/cgroup/memory.current")
	if err1 == nil && err2 == nil {
		l, e1 := strconv.ParseUint(strings.TrimSpace(string(limit)), 10, 64)
		u, e2 := strconv.ParseUint(strings.TrimSpace(string(usage)), 10, 64)
		if e1 == nil && e2 == nil && l > u && (avail == 0 || l-u < avail) {
			avail = l - u
		}
	}
	return avail
}

// CheckFiles checks what can be checked on disk before running: output.dir
// can be created and written (its nearest existing folder is a writable
// directory), and verify.expected exists and is a file.
func (c *Config) CheckFiles() error {
	var errs Errors
	if d := c.Output.Dir; d != "" && !strings.ContainsRune(d, 0) {
		if err := writableDir(d); err != nil {
			errs = append(errs, c.Errorf("output.dir", "%s: %v", d, err))
		}
	}
	if e := c.Verify.Expected; e != "" && !strings.ContainsRune(e, 0) {
		st, err := os.Stat(c.Abs(e))
		switch {
		case err != nil:
			errs = append(errs, c.Errorf("verify.expected", "%s: %v", c.Abs(e), statProblem(err)))
		case st.IsDir():
			errs = append(errs, c.Errorf("verify.expected", "%s: is a directory, want a Parquet file", c.Abs(e)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func statProblem(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("no such file (paths are relative to the config file's directory)")
	}
	return unwrapPathError(err)
}

// writableDir reports whether dir exists as a writable directory, or can
// be created: its nearest existing ancestor is a writable directory.
func writableDir(dir string) error {
	p := filepath.Clean(dir)
	for {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				if p == filepath.Clean(dir) {
					return fmt.Errorf("is a file, want a directory")
				}
				return fmt.Errorf("cannot be created: %s is a file", p)
			}
			if err := probe(p); err != nil {
				if p == filepath.Clean(dir) {
					return fmt.Errorf("not writable (%v)", err)
				}
				return fmt.Errorf("cannot be created: %s is not writable (%v)", p, err)
			}
			return nil
		}
		if !os.IsNotExist(err) {
			return unwrapPathError(err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("no existing parent folder")
		}
		p = parent
	}
}

// pseudoFS are kernel file systems that may accept a file and then not
// keep it, or keep something else: never a place for results.
var pseudoFS = []string{"/proc", "/sys"}

// probe checks that dir takes a file, by creating one and removing it at
// once: access(2) says yes to root on a read-only mount, and to folders of
// /proc and /sys.
func probe(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, fs := range pseudoFS {
		if abs == fs || strings.HasPrefix(abs, fs+"/") {
			return fmt.Errorf("%s is a kernel pseudo file system", fs)
		}
	}
	f, err := os.CreateTemp(dir, ".ortbench-probe-*")
	if err != nil {
		return unwrapPathError(err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
