// Package ceiling measures the machine's compute and bandwidth ceilings the
// way ortbench runs models: a generated MatMul-only ONNX model
// (MatMulModel), compute-bound at its default size (X [256, 1024] × W
// [1024, 1024], 537 MFLOP a run), and a generated Add of two float32 vectors
// (AddModel), memory-bound at its default size (2²³ elements, 32 MiB each,
// 96 MiB moved a run: beyond the last-level cache of most machines),
// through the same ONNX Runtime library and session options as the cells, on
// 1…N cores: one session with T intra-op threads and T one-thread sessions
// at once, the better of the two. Each cell's GFLOP/s is then a share of the
// ceiling for the cores it used, and its arithmetic intensity places it
// under the bandwidth ceiling's slope (runner/compute.go, the report's
// roofline chart).
//
// A ceiling is only a fair yardstick when measured close in time to the
// cells: a shared VM's speed moves from day to day. `run` with `ceiling:
// true` therefore measures it afresh at the start of the run — and, under
// the interleaved schedule, again in every round as a short burst among the
// cells (Bursts), so a cell's share is a ratio paired by round; every
// measurement is also written to a cache file per machine, ORT version and
// settings (os.UserCacheDir()/ortbench/ceiling-*.json), which `ortbench
// ceiling --cached` reads back.
//
// Note: a vendor peak (cores × clock × FMA width) was rejected as the
// ceiling: no inference library reaches it, and it would not say what this
// ORT build's own GEMM can do on this machine. The measured MatMul is the
// best a model made of matrix products can expect here.
package ceiling

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
)

// Settings size the measurement.
type Settings struct {
	Batch, K, N int
	// BandwidthElems is the length of the Add model's vectors (float32);
	// 12·BandwidthElems bytes move per run.
	BandwidthElems int
	// MaxThreads is the largest intra-op thread count measured (1…MaxThreads).
	MaxThreads int
	// Duration is the time spent per thread count, both ways together,
	// each in Trials trials.
	Duration time.Duration
	Trials   int
	// Options are the cells' session options; IntraOpThreads is set per
	// point, inter-op threading is off.
	Options onnx.Options
}

// Defaults are the settings `ortbench ceiling` and `run` use.
func Defaults(maxThreads int, opts onnx.Options) Settings {
	return Settings{Batch: 256, K: 1024, N: 1024, BandwidthElems: 8 << 20, MaxThreads: max(maxThreads, 1), Duration: 2 * time.Second, Trials: 5, Options: opts}
}

// FlopsPerRun is 2·Batch·K·N: a multiply and an add per term of each output.
func (s Settings) FlopsPerRun() int64 { return 2 * int64(s.Batch) * int64(s.K) * int64(s.N) }

// BytesPerRun is the Add model's traffic per run, 12·BandwidthElems: two
// float32 vectors read, one written.
func (s Settings) BytesPerRun() int64 { return 12 * int64(s.BandwidthElems) }

func (s Settings) check() error {
	switch {
	case s.Batch <= 0 || s.K <= 0 || s.N <= 0 || s.BandwidthElems <= 0:
		return fmt.Errorf("ceiling: sizes must be > 0 (batch %d, k %d, n %d, bandwidth elements %d)", s.Batch, s.K, s.N, s.BandwidthElems)
	case s.MaxThreads <= 0:
		return fmt.Errorf("ceiling: threads must be > 0, got %d", s.MaxThreads)
	case s.Trials <= 0 || s.Duration <= 0:
		return fmt.Errorf("ceiling: trials and duration must be > 0")
	}
	return nil
}

// ErrNoLibrary is returned when ONNX Runtime is not loaded (onnx.Init).
var ErrNoLibrary = errors.New("ceiling: the ONNX Runtime library is not loaded: it measures through ORT itself (run `make ort` or set " + onnx.LibraryEnv + ")")

// Weights are MatMulModel's deterministic weights in [-1, 1).
func Weights(k, n int) []float32 {
	w := make([]float32, k*n)
	fill(w, 1)
	return w
}

// fill writes a deterministic sequence in [-1, 1) (an LCG).
func fill(v []float32, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range v {
		x = x*6364136223846793005 + 1442695040888963407
		v[i] = float32(x>>40)/float32(1<<24)*2 - 1
	}
}

// WriteModel writes MatMulModel with Weights to a new file in dir and
// returns its path.
func WriteModel(dir string, k, n int) (string, error) {
	return writeTemp(dir, fmt.Sprintf("ortbench-ceiling-%dx%d-*.onnx", k, n), MatMulModel(k, n, Weights(k, n)))
}

// WriteAddModel writes AddModel with Addend to a new file in dir and
// returns its path.
func WriteAddModel(dir string, n int) (string, error) {
	return writeTemp(dir, fmt.Sprintf("ortbench-ceiling-add%d-*.onnx", n), AddModel(n, Addend(n)))
}

// Addend is AddModel's deterministic vector in [-1, 1).
func Addend(n int) []float32 {
	b := make([]float32, n)
	fill(b, 3)
	return b
}

func writeTemp(dir, pattern string, model []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("ceiling: %w", err)
	}
	_, werr := f.Write(model)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("ceiling: writing the model: %w", err)
	}
	return f.Name(), nil
}

// Measure runs the ceiling models on 1…MaxThreads cores (see point).
// onnx.Init must have run (ErrNoLibrary otherwise). progress, when not nil,
// is called after each thread count.
func Measure(ctx context.Context, s Settings, progress func(results.CeilingPoint)) (*results.Ceiling, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if onnx.Version() == "" {
		return nil, ErrNoLibrary
	}
	mm, mmDone, err := s.matMulBench()
	if err != nil {
		return nil, err
	}
	defer mmDone()
	add, addDone, err := openBench(fmt.Sprintf("ortbench-ceiling-add%d-*.onnx", s.BandwidthElems), AddModel(s.BandwidthElems, Addend(s.BandwidthElems)),
		s.BandwidthElems, 1, float64(s.BytesPerRun()), 4)
	if err != nil {
		return nil, err
	}
	defer addDone()
	c := &results.Ceiling{
		Model: fmt.Sprintf("matmul [%d,%d]x[%d,%d] float32", s.Batch, s.K, s.K, s.N),
		Batch: s.Batch, K: s.K, N: s.N, FlopsPerRun: s.FlopsPerRun(),
		BandwidthModel: fmt.Sprintf("add [1,%d]+[%d] float32", s.BandwidthElems, s.BandwidthElems),
		BandwidthElems: s.BandwidthElems, BandwidthBytesPerRun: s.BytesPerRun(),
		OnnxruntimeVersion: onnx.Version(), OnnxruntimeLibrary: onnx.LibraryPath(),
		Options: describe(s.Options), MeasuredAt: time.Now().UTC(),
	}
	for t := 1; t <= s.MaxThreads; t++ {
		f, err := point(ctx, mm, s, t)
		if err != nil {
			return nil, err
		}
		b, err := point(ctx, add, s, t)
		if err != nil {
			return nil, err
		}
		p := results.CeilingPoint{Threads: t,
			GFLOPS: f.best, MedianGFLOPS: f.median, Trials: f.trials, Way: f.way, IntraOpGFLOPS: f.intraOp, SessionsGFLOPS: f.sessions,
			BandwidthGBPS: b.best, MedianBandwidthGBPS: b.median, BandwidthWay: b.way, IntraOpBandwidthGBPS: b.intraOp, SessionsBandwidthGBPS: b.sessions,
		}
		c.Points = append(c.Points, p)
		if progress != nil {
			progress(p)
		}
	}
	return c, nil
}

// bench is one ceiling model ready to run: rows × width inputs, work units
// (FLOPs or bytes) per run.
type bench struct {
	m           *onnx.Model
	width, rows int
	perRun      float64
	in          []float32
}

// openBench writes model to a temporary file named after pattern and
// opens its bench (newBench's arguments); done drops the file.
func openBench(pattern string, model []byte, width, rows int, perRun float64, seed uint64) (*bench, func(), error) {
	path, done, err := tempModel(pattern, model)
	if err != nil {
		return nil, nil, err
	}
	b, err := newBench(path, width, rows, perRun, seed)
	if err != nil {
		done()
		return nil, nil, err
	}
	return b, done, nil
}

// matMulBench is the compute ceiling's MatMul model at s's sizes, opened.
func (s Settings) matMulBench() (*bench, func(), error) {
	return openBench(fmt.Sprintf("ortbench-ceiling-%dx%d-*.onnx", s.K, s.N), MatMulModel(s.K, s.N, Weights(s.K, s.N)),
		s.K, s.Batch, float64(s.FlopsPerRun()), 2)
}

// newBench inspects the model at path (tempModel's). Sessions load the
// file, so the caller keeps it until done.
func newBench(path string, width, rows int, perRun float64, seed uint64) (*bench, error) {
	m, err := onnx.Inspect(path)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	in := make([]float32, rows*width)
	fill(in, seed)
	return &bench{m: m, width: width, rows: rows, perRun: perRun, in: in}, nil
}

// way is one model's measurement at one thread count.
type way struct {
	best, median      float64
	trials            int
	way               string
	intraOp, sessions float64
}

// point measures one thread count two ways and keeps the better: one
// session with threads intra-op threads, and (threads > 1) threads
// sessions of one thread each running at once — what ORT's own pool and
// what independent workers get out of the same cores. On a quiet machine
// the two agree closely; on a busy one ORT's pool waits for its slowest
// thread and the independent sessions do not.
func point(ctx context.Context, b *bench, s Settings, threads int) (way, error) {
	rates, err := trials(ctx, b, s, 1, threads)
	if err != nil {
		return way{}, err
	}
	w := way{best: rates[len(rates)-1], median: stats.Median(rates), trials: len(rates), way: "intra-op", intraOp: rates[len(rates)-1]}
	if threads > 1 {
		rates, err := trials(ctx, b, s, threads, 1)
		if err != nil {
			return w, err
		}
		w.sessions = rates[len(rates)-1]
		if w.sessions > w.best {
			w.best, w.median, w.way = rates[len(rates)-1], stats.Median(rates), "sessions"
		}
	}
	return w, nil
}

// trials runs sessions sessions of threads intra-op threads each at once:
// a few unmeasured runs, then Trials trials of Duration/(2·Trials) each
// (both ways of a point share Duration). The timed runs reuse the input
// the warm-up copied in (onnx.Worker.Rerun), so only ORT's work is timed.
// It returns each trial's rate in 10⁹ work units a second, sorted.
func trials(ctx context.Context, b *bench, s Settings, sessions, threads int) ([]float64, error) {
	opts := s.Options
	opts.IntraOpThreads, opts.InterOpThreads, opts.Parallel = threads, 1, false
	workers := make([]*onnx.Worker, sessions)
	for i := range workers {
		sess, err := onnx.NewSession(b.m, b.width, opts)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %d threads: %w", threads, err)
		}
		defer sess.Close()
		w, err := sess.NewWorker(b.rows)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %d threads: %w", threads, err)
		}
		defer w.Close()
		for range 3 {
			if err := w.Run(b.in); err != nil {
				return nil, fmt.Errorf("ceiling: %w", err)
			}
		}
		workers[i] = w
	}
	trial := s.Duration / time.Duration(2*s.Trials)
	rates := make([]float64, 0, s.Trials)
	for range s.Trials {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		runs, secs, err := timedRuns(workers, trial)
		if err != nil {
			return nil, err
		}
		rates = append(rates, float64(runs)*b.perRun/secs/1e9)
	}
	slices.Sort(rates)
	return rates, nil
}

// describe states the session options a ceiling ran with.
func describe(o onnx.Options) string {
	return fmt.Sprintf("graph_optimization=%s spinning=%t memory_arena=%t memory_pattern=%t", o.GraphOptimization, o.Spinning, o.MemArena, o.MemPattern)
}

// CacheFile is where a ceiling for this machine, ORT version and settings
// is cached: os.UserCacheDir()/ortbench/ceiling-<hash>.json, the hash over
// the host name, CPU model, logical cores, ORT version and library, the
// sizes and the session options.
func CacheFile(env results.Environment, s Settings) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("ceiling: no cache directory: %w", err)
	}
	key := fmt.Sprintf("%s|%s|%d|%s|%s|%d,%d,%d,%d,%d|%s", env.Hostname, env.CPUModel, env.LogicalCores,
		onnx.Version(), onnx.LibraryPath(), s.Batch, s.K, s.N, s.BandwidthElems, s.MaxThreads, describe(s.Options))
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, "ortbench", "ceiling-"+hex.EncodeToString(sum[:6])+".json"), nil
}

// Save writes c to path (atomically) and records the path in c.Cache.
func Save(c *results.Ceiling, path string) error {
	c.Cache = path
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(path, append(data, '\n'))
}

// Load reads a cached ceiling; a missing file is an error saying how to
// make one.
func Load(path string) (*results.Ceiling, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ceiling: no cached ceiling for this machine, ORT version and settings (%s): run `ortbench ceiling` first", path)
	}
	if err != nil {
		return nil, err
	}
	var c results.Ceiling
	if err := json.Unmarshal(data, &c); err != nil || len(c.Points) == 0 {
		return nil, fmt.Errorf("ceiling: %s is not a ceiling file (run `ortbench ceiling` to rewrite it)", path)
	}
	c.Cache, c.Cached = path, true
	return &c, nil
}
