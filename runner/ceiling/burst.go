package ceiling

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ortbench/ortbench/onnx"
)

// Bursts measure the compute ceiling again and again during a run: the
// MatMul model's sessions for each thread count stay open, warmed up, so a
// burst is one timed trial and nothing else. The interleaved schedule runs a
// burst per thread count in every round, among the cells (runner/ceiling.go),
// so each cell's share of the ceiling is a ratio paired by round.
type Bursts struct {
	b       *bench
	done    func()
	workers map[int][]*onnx.Worker // threads → the sessions' workers
	closers []func() error
}

// NewBursts opens the MatMul model at s's sizes for each of threads cores,
// the way ways names for it ("sessions": that many one-thread sessions at
// once; anything else: one session with that many intra-op threads), and
// warms every session up. onnx.Init must have run (ErrNoLibrary otherwise).
func NewBursts(s Settings, threads []int, ways map[int]string) (*Bursts, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if onnx.Version() == "" {
		return nil, ErrNoLibrary
	}
	mm, done, err := s.matMulBench()
	if err != nil {
		return nil, err
	}
	b := &Bursts{b: mm, done: done, workers: map[int][]*onnx.Worker{}}
	for _, t := range threads {
		if t < 1 {
			b.Close()
			return nil, fmt.Errorf("ceiling: threads must be > 0, got %d", t)
		}
		sessions, each := 1, t
		if ways[t] == "sessions" && t > 1 {
			sessions, each = t, 1
		}
		if err := b.open(s.Options, t, sessions, each); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// open starts sessions sessions of each intra-op threads for the thread
// count t and runs each a few times unmeasured.
func (b *Bursts) open(o onnx.Options, t, sessions, each int) error {
	o.IntraOpThreads, o.InterOpThreads, o.Parallel = each, 1, false
	for range sessions {
		sess, err := onnx.NewSession(b.b.m, b.b.width, o)
		if err != nil {
			return fmt.Errorf("ceiling: %d threads: %w", t, err)
		}
		b.closers = append(b.closers, sess.Close)
		w, err := sess.NewWorker(b.b.rows)
		if err != nil {
			return fmt.Errorf("ceiling: %d threads: %w", t, err)
		}
		b.closers = append(b.closers, w.Close)
		for range 3 {
			if err := w.Run(b.b.in); err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
		}
		b.workers[t] = append(b.workers[t], w)
	}
	return nil
}

// Burst runs the model on threads cores for about d (at least one run per
// session) and returns the GFLOP/s it reached and the seconds it took.
func (b *Bursts) Burst(ctx context.Context, threads int, d time.Duration) (gflops, seconds float64, err error) {
	workers, ok := b.workers[threads]
	if !ok {
		return 0, 0, fmt.Errorf("ceiling: no burst opened for %d threads", threads)
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	runs, secs, err := timedRuns(workers, d)
	if err != nil {
		return 0, 0, err
	}
	return float64(runs) * b.b.perRun / secs / 1e9, secs, nil
}

// timedRuns reruns every worker at once, each at least once and until d
// has passed, and returns how many runs finished and the seconds taken.
func timedRuns(workers []*onnx.Worker, d time.Duration) (int64, float64, error) {
	var g errgroup.Group
	var runs atomic.Int64
	t0 := time.Now()
	for _, w := range workers {
		g.Go(func() error {
			for n := 0; n == 0 || time.Since(t0) < d; n++ {
				if err := w.Rerun(); err != nil {
					return fmt.Errorf("ceiling: %w", err)
				}
				runs.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	return runs.Load(), time.Since(t0).Seconds(), nil
}

// Close closes every session and drops the model file.
func (b *Bursts) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		_ = b.closers[i]() // nothing to do about a failed close at the end
	}
	b.closers, b.workers = nil, nil
	if b.done != nil {
		b.done()
		b.done = nil
	}
}
