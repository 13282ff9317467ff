package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// service serves a workload's rows: request i carries rows slot·rr …
// slot·rr+rr−1 of the dataset, slot = i mod slots (in order, wrapping; the
// last rows%rr rows are never sent). It serves through the cell's own
// strategy, started as for a pass (its sessions or worker processes), and
// each server goroutine has its own outputs store, checked against the
// reference after every call, untimed.
type service struct {
	w       workload.Workload
	rr      int
	slots   int
	rs      strategy.RowServer
	outs    []*workload.Outputs
	reports []verify.Report
	ref     *verify.Verifier
	// at and rows, set for a load of sized requests (a trace's rows
	// column), are each request's first row and rows.
	at, rows []int32
}

var _ Service = (*service)(nil)

// open starts the cell's strategy with executors prepared for the calls
// the cell makes: 1..max_batch requests of rr rows (at most 16 sizes
// prepared; a larger batch binds on first use, in warm-up).
func open(ctx context.Context, env Env, pc config.Cell, shape strategy.Serving, rr int) (*service, error) {
	w := env.Workload
	if rr > w.Rows() {
		return nil, fmt.Errorf("%d rows per request, but the workload has %d", rr, w.Rows())
	}
	def, err := env.Registry.Lookup(pc.Strategy)
	if err != nil {
		return nil, err
	}
	st := def.New()
	rs, ok := st.(strategy.RowServer)
	if !ok {
		return nil, fmt.Errorf("%s cannot serve rows on request", pc.Strategy)
	}
	var counts []int
	for k := 1; k <= min(max(shape.MaxBatch, 1), 16); k++ {
		counts = append(counts, k*rr)
	}
	job := &strategy.Job{Workload: w, Config: pc.Config, Options: env.Options, Command: env.Command, RowCounts: counts}
	if err := st.Start(ctx, job); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	s := &service{w: w, rr: rr, slots: w.Rows() / rr, ref: env.Verifier, rs: rs}
	for range shape.Servers {
		s.outs = append(s.outs, workload.NewOutputs(w.Layout(), w.Rows(), rr))
	}
	s.reports = make([]verify.Report, len(s.outs))
	return s, nil
}

func (s *service) close() error {
	if s.rs == nil {
		return nil
	}
	err := s.rs.Close()
	s.rs = nil
	return err
}

// warm runs n single requests and one batch as large as the cell forms on
// every server, untimed as load; it returns the median single-request
// service time.
func (s *service) warm(n int, shape strategy.Serving) (time.Duration, error) {
	var times []time.Duration
	for w := range s.outs { // one store per server
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
	slices.Sort(times)
	return times[len(times)/2], nil
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
	if s.at != nil {
		last := first + n - 1
		return int(s.at[first]), int(s.at[last]+s.rows[last]) - int(s.at[first])
	}
	return (first % s.slots) * s.rr, n * s.rr
}

// sized lays out the next load's n requests, request i of sizes[i mod
// len(sizes)] rows (nil: request_rows each, as before): in the order of
// the dataset's rows rows, back to 0 when the next would pass its end
// (a size above rows is refused before: startCell). It returns where the
// dataset wraps (a batch starts there, Options.Breaks) and the
// requests' mean rows (0: not sized).
func (s *service) sized(sizes []int32, n, rows int) (breaks []bool, mean float64) {
	s.at, s.rows = nil, nil
	if sizes == nil {
		return nil, 0
	}
	s.at, s.rows, breaks = make([]int32, n), make([]int32, n), make([]bool, n)
	var pos, sum int64
	for i := range n {
		k := sizes[i%len(sizes)]
		if pos+int64(k) > int64(rows) {
			pos, breaks[i] = 0, true
		}
		s.at[i], s.rows[i] = int32(pos), k
		pos += int64(k)
		sum += int64(k)
	}
	return breaks, float64(sum) / float64(n)
}

// Run serves requests first..first+n−1 on server w of the strategy.
func (s *service) Run(w, first, n int) error {
	start, rows := s.span(first, n)
	return s.rs.ServeRows(w, start, rows, s.outs[w])
}

// Check compares those requests' outputs with the reference's rows.
func (s *service) Check(w, first, n int) {
	start, rows := s.span(first, n)
	s.reports[w].Merge(s.ref.CheckRows(s.outs[w], start, rows))
}
