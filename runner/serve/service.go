package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// service serves a workload's rows: request i carries rows slot·rr …
// slot·rr+rr−1 of the dataset, slot = i mod slots (in order, wrapping; the
// last rows%rr rows are never sent). Each server goroutine has its own
// executor and its own outputs store, checked against the reference after
// every call, untimed.
type service struct {
	w       workload.Workload
	rr      int
	slots   int
	engines []workload.Engine
	execs   []workload.Executor
	remote  strategy.RowServer // worker processes serve instead of execs (Serving.Remote)
	outs    []*workload.Outputs
	reports []verify.Report
	ref     *verify.Verifier
}

var _ Service = (*service)(nil)

// open opens the cell's sessions: Sessions engines × PerSession executors.
func open(ctx context.Context, env Env, pc config.Cell, shape strategy.Serving, rr int) (*service, error) {
	w := env.Workload
	if rr > w.Rows() {
		return nil, fmt.Errorf("%d rows per request, but the workload has %d", rr, w.Rows())
	}
	s := &service{w: w, rr: rr, slots: w.Rows() / rr, ref: env.Verifier}
	if shape.Remote {
		return s, s.openRemote(ctx, env, pc, shape)
	}
	o := env.Options
	o.IntraOpThreads = max(shape.Threads, 1)
	o.InterOpThreads = max(shape.InterOp, 1)
	o.Parallel = shape.Parallel
	o.Spinning = pc.Config.Common().Spinning
	var counts []int
	for k := 1; k <= min(max(shape.MaxBatch, 1), 16); k++ {
		counts = append(counts, k*rr)
	}
	for range shape.Sessions {
		e, err := w.Open(o)
		if err != nil {
			return nil, errors.Join(err, s.close())
		}
		s.engines = append(s.engines, e)
		for range shape.PerSession {
			x, err := e.NewExecutor(counts...)
			if err != nil {
				return nil, errors.Join(err, s.close())
			}
			s.execs = append(s.execs, x)
			s.outs = append(s.outs, workload.NewOutputs(w.Layout(), w.Rows(), rr))
		}
	}
	s.reports = make([]verify.Report, len(s.execs))
	return s, nil
}

// openRemote starts the cell's own strategy (its worker processes, warm)
// and serves through it: one outputs store per worker, as in-process.
func (s *service) openRemote(ctx context.Context, env Env, pc config.Cell, shape strategy.Serving) error {
	def, ok := env.Registry[pc.Strategy]
	if !ok || len(env.Command) == 0 {
		return fmt.Errorf("%s: worker processes need the runner's registry and worker command", pc.Strategy)
	}
	st := def.New()
	rs, ok := st.(strategy.RowServer)
	if !ok {
		return fmt.Errorf("%s cannot serve rows on request", pc.Strategy)
	}
	job := &strategy.Job{Workload: s.w, Config: pc.Config, Options: env.Options, Command: env.Command}
	if err := st.Start(ctx, job); err != nil {
		st.Close()
		return err
	}
	s.remote = rs
	for range shape.Servers() {
		s.outs = append(s.outs, workload.NewOutputs(s.w.Layout(), s.w.Rows(), s.rr))
	}
	s.reports = make([]verify.Report, len(s.outs))
	return nil
}

func (s *service) close() error {
	if s.remote != nil {
		err := s.remote.Close()
		s.remote = nil
		return err
	}
	var errs []error
	for _, x := range s.execs {
		errs = append(errs, x.Close())
	}
	for _, e := range s.engines {
		errs = append(errs, e.Close())
	}
	s.execs, s.engines = nil, nil
	return errors.Join(errs...)
}

// warm runs n single requests and one batch as large as the cell forms on
// every server, untimed as load; it returns the median single-request
// service time.
func (s *service) warm(n int, shape strategy.Serving) (time.Duration, error) {
	var times []time.Duration
	for w := range s.outs { // one store per server, in-process or remote
		for i := range max(n, 3) {
			t := time.Now()
			if err := s.Run(w, i, 1); err != nil {
				return 0, err
			}
			times = append(times, time.Since(t))
			s.Check(w, i, 1)
		}
		if b := min(shape.MaxBatch, s.slots); b > 1 {
			if err := s.Run(w, 0, b); err != nil {
				return 0, err
			}
			s.Check(w, 0, b)
		}
	}
	for _, r := range s.reports {
		if !r.Passed() {
			return 0, fmt.Errorf("outputs differ from the reference: %s", r.FirstError)
		}
	}
	sortDurations(times)
	return times[len(times)/2], nil
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// reset clears the verification reports before a load.
func (s *service) reset() { clear(s.reports) }

// report merges the servers' verification reports.
func (s *service) report() verify.Report {
	var r verify.Report
	for _, x := range s.reports {
		r.Merge(x)
	}
	return r
}

// span is the rows of requests first..first+n−1 (within one wrap).
func (s *service) span(first, n int) (start, rows int) {
	return (first % s.slots) * s.rr, n * s.rr
}

// Run serves requests first..first+n−1 on server w's executor.
func (s *service) Run(w, first, n int) error {
	start, rows := s.span(first, n)
	if s.remote != nil {
		return s.remote.ServeRows(w, start, rows, s.outs[w])
	}
	width := s.w.Width()
	return s.execs[w].Run(s.w.Data()[start*width:(start+rows)*width], start, s.outs[w])
}

// Check compares those requests' outputs with the reference's rows.
func (s *service) Check(w, first, n int) {
	start, rows := s.span(first, n)
	s.reports[w].Merge(s.ref.CheckRows(s.outs[w], start, rows))
}
