// Package ceiling measures the machine's compute ceiling the way ortbench
// runs models: a generated MatMul-only ONNX model (MatMulModel), compute-bound
// at its default size (X [256, 1024] × W [1024, 1024], 537 MFLOP a run),
// through the same ONNX Runtime library and session options as the cells, on
// 1…N cores: one session with T intra-op threads and T one-thread sessions
// at once, the better of the two. Each cell's GFLOP/s is then a share of the ceiling
// for the cores it used (runner/compute.go).
//
// A ceiling is only a fair yardstick when measured close in time to the
// cells: a shared VM's speed moves from day to day. `run` with `ceiling:
// true` therefore measures it afresh at the start of the run; every
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
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
)

// Settings size the measurement.
type Settings struct {
	Batch, K, N int
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
	return Settings{Batch: 256, K: 1024, N: 1024, MaxThreads: max(maxThreads, 1), Duration: 2 * time.Second, Trials: 5, Options: opts}
}

// FlopsPerRun is 2·Batch·K·N: a multiply and an add per term of each output.
func (s Settings) FlopsPerRun() int64 { return 2 * int64(s.Batch) * int64(s.K) * int64(s.N) }

func (s Settings) check() error {
	switch {
	case s.Batch <= 0 || s.K <= 0 || s.N <= 0:
		return fmt.Errorf("ceiling: sizes must be > 0 (batch %d, k %d, n %d)", s.Batch, s.K, s.N)
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
	f, err := os.CreateTemp(dir, fmt.Sprintf("ortbench-ceiling-%dx%d-*.onnx", k, n))
	if err != nil {
		return "", fmt.Errorf("ceiling: %w", err)
	}
	_, werr := f.Write(MatMulModel(k, n, Weights(k, n)))
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("ceiling: writing the model: %w", err)
	}
	return f.Name(), nil
}

// Measure runs the ceiling model on 1…MaxThreads cores (see point). onnx.Init
// must have run (ErrNoLibrary otherwise). progress, when not nil, is called
// after each thread count.
func Measure(ctx context.Context, s Settings, progress func(results.CeilingPoint)) (*results.Ceiling, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if onnx.Version() == "" {
		return nil, ErrNoLibrary
	}
	path, err := WriteModel("", s.K, s.N)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	m, err := onnx.Inspect(path)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	c := &results.Ceiling{
		Model: fmt.Sprintf("matmul [%d,%d]x[%d,%d] float32", s.Batch, s.K, s.K, s.N),
		Batch: s.Batch, K: s.K, N: s.N, FlopsPerRun: s.FlopsPerRun(),
		OnnxruntimeVersion: onnx.Version(), OnnxruntimeLibrary: onnx.LibraryPath(),
		Options: describe(s.Options), MeasuredAt: time.Now().UTC(),
	}
	in := make([]float32, s.Batch*s.K)
	fill(in, 2)
	for t := 1; t <= s.MaxThreads; t++ {
		p, err := point(ctx, m, s, t, in)
		if err != nil {
			return nil, err
		}
		c.Points = append(c.Points, p)
		if progress != nil {
			progress(p)
		}
	}
	return c, nil
}

// point measures one thread count two ways and keeps the better: one
// session with threads intra-op threads, and (threads > 1) threads
// sessions of one thread each running at once — what ORT's own pool and
// what independent workers get out of the same cores. On a quiet machine
// the two agree closely; on a busy one ORT's pool waits for its slowest
// thread and the independent sessions do not.
func point(ctx context.Context, m *onnx.Model, s Settings, threads int, in []float32) (results.CeilingPoint, error) {
	p := results.CeilingPoint{Threads: threads}
	rates, err := trials(ctx, m, s, 1, threads, in)
	if err != nil {
		return p, err
	}
	p.IntraOpGFLOPS = rates[len(rates)-1]
	p.GFLOPS, p.MedianGFLOPS, p.Trials, p.Way = rates[len(rates)-1], median(rates), len(rates), "intra-op"
	if threads > 1 {
		rates, err := trials(ctx, m, s, threads, 1, in)
		if err != nil {
			return p, err
		}
		p.SessionsGFLOPS = rates[len(rates)-1]
		if p.SessionsGFLOPS > p.GFLOPS {
			p.GFLOPS, p.MedianGFLOPS, p.Way = rates[len(rates)-1], median(rates), "sessions"
		}
	}
	return p, nil
}

// trials runs sessions sessions of threads intra-op threads each at once:
// a few unmeasured runs, then Trials trials of Duration/(2·Trials) each
// (both ways of a point share Duration). It returns each trial's GFLOP/s,
// sorted.
func trials(ctx context.Context, m *onnx.Model, s Settings, sessions, threads int, in []float32) ([]float64, error) {
	opts := s.Options
	opts.IntraOpThreads, opts.InterOpThreads, opts.Parallel = threads, 1, false
	workers := make([]*onnx.Worker, sessions)
	for i := range workers {
		sess, err := onnx.NewSession(m, s.K, opts)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %d threads: %w", threads, err)
		}
		defer sess.Close()
		w, err := sess.NewWorker(s.Batch)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %d threads: %w", threads, err)
		}
		defer w.Close()
		for range 3 {
			if err := w.Run(in); err != nil {
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
		var g errgroup.Group
		var runs atomic.Int64
		t0 := time.Now()
		for _, w := range workers {
			g.Go(func() error {
				for n := 0; n == 0 || time.Since(t0) < trial; n++ {
					if err := w.Run(in); err != nil {
						return fmt.Errorf("ceiling: %w", err)
					}
					runs.Add(1)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		rates = append(rates, float64(runs.Load())*float64(s.FlopsPerRun())/time.Since(t0).Seconds()/1e9)
	}
	slices.Sort(rates)
	return rates, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
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
	key := fmt.Sprintf("%s|%s|%d|%s|%s|%d,%d,%d,%d|%s", env.Hostname, env.CPUModel, env.LogicalCores,
		onnx.Version(), onnx.LibraryPath(), s.Batch, s.K, s.N, s.MaxThreads, describe(s.Options))
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
