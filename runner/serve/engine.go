package serve

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Service serves requests, identified by their index in the schedule.
// Run is timed as the service time; Check (verification) runs after the
// completion was recorded, untimed. Server goroutine w calls only Run(w, …)
// and Check(w, …), so a Service may keep per-server state without locks.
type Service interface {
	Run(w, first, n int) error
	Check(w, first, n int)
}

// Options is one open-loop run.
type Options struct {
	// Schedule is every request's arrival time, from the start.
	Schedule []time.Duration
	// Servers is how many goroutines serve requests at once.
	Servers int
	// MaxBatch > 1 puts a dynamic batcher in front of the servers: when a
	// server is free, it takes up to MaxBatch queued requests at once, and
	// while fewer are queued waits for more until the oldest has waited
	// MaxDelay since its scheduled arrival.
	MaxBatch int
	MaxDelay time.Duration
	// Slots: a batch never spans a multiple of Slots (the requests' rows
	// wrap around the dataset there); 0: no limit.
	Slots int
	// SLO counts the requests whose latency exceeds it (0: none).
	SLO time.Duration
	// Drain is how long after the last arrival the run waits for the
	// requests still queued; those left are unfinished (0: 2s).
	Drain time.Duration
	// Spin: the issuer sleeps until Spin before each arrival, then yields
	// in a loop until it (0: 50µs).
	Spin time.Duration
	// OnBatch, when set, is called by the batcher as it dispatches each
	// batch (tests).
	OnBatch func(first, n int, dispatched time.Duration)
}

// Outcome is what one run measured.
type Outcome struct {
	Requests, Completed, Unfinished int
	// Latency runs from the scheduled arrival to completion; Queueing from
	// the scheduled arrival to the start of service; Service is the rest.
	// Lateness is the issuer's error: actual − scheduled send time.
	Latency, Queueing, Service, Lateness *hdr.Histogram
	// OverSLO counts completed requests slower than Options.SLO.
	OverSLO int
	// Span is the first arrival to the last completion.
	Span time.Duration
	// Offered is the schedule's rate, Achieved completions per second of Span.
	Offered, Achieved float64
	// QueueGrowth is the slope of queueing delay against arrival time
	// (seconds per second): ~0 when the servers keep up, the deficit
	// 1 − capacity/offered when they do not.
	QueueGrowth float64
	// Batches[k] counts the calls that served k requests at once.
	Batches []int64
	// Saturated: the servers did not keep up (Why says how).
	Saturated bool
	Why       string
}

// SaturationTolerance is how far achieved QPS may fall below offered, or
// queueing delay grow per second of arrivals, before a run is saturated.
const SaturationTolerance = 0.05

const histMax = int64(10 * time.Minute)

func newHist() *hdr.Histogram { return hdr.New(1, histMax, 3) }

func record(h *hdr.Histogram, d time.Duration) {
	v := int64(d)
	if v < 1 {
		v = 1
	} else if v > histMax {
		v = histMax
	}
	_ = h.RecordValue(v)
}

// server is one serving goroutine's own recorders: no locks, no
// allocation while serving; merged at the end.
type server struct {
	lat, queue, svc     *hdr.Histogram
	done, over, left    int
	last                time.Duration
	sx, sy, sxx, sxy, n float64
	batches             []int64
}

type batch struct{ first, n int }

// Run issues opts.Schedule's requests to svc at their scheduled times,
// never waiting for an earlier one to finish, and measures them.
func Run(ctx context.Context, svc Service, opts Options) (*Outcome, error) {
	sched := opts.Schedule
	if len(sched) == 0 {
		return nil, errors.New("no requests scheduled")
	}
	if opts.Servers < 1 {
		return nil, fmt.Errorf("%d servers", opts.Servers)
	}
	maxBatch := max(opts.MaxBatch, 1)
	drain := opts.Drain
	if drain <= 0 {
		drain = 2 * time.Second
	}
	spin := opts.Spin
	if spin <= 0 {
		spin = 50 * time.Microsecond
	}
	servers := make([]*server, opts.Servers)
	for i := range servers {
		servers[i] = &server{lat: newHist(), queue: newHist(), svc: newHist(), batches: make([]int64, maxBatch+1)}
	}
	lateness := newHist()
	queue := make(chan int32, len(sched))
	var abandon atomic.Bool
	errc := make(chan error, opts.Servers)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		abandon.Store(true)
	}

	t0 := time.Now()
	now := func() time.Duration { return time.Since(t0) }
	serve := func(s *server, w, first, n int) {
		if abandon.Load() {
			s.left += n
			return
		}
		st := now()
		if err := svc.Run(w, first, n); err != nil {
			fail(fmt.Errorf("requests %d..%d: %w", first, first+n-1, err))
			s.left += n
			return
		}
		end := now()
		for i := first; i < first+n; i++ {
			at := sched[i]
			lat := end - at
			record(s.lat, lat)
			record(s.queue, st-at)
			record(s.svc, end-st)
			if opts.SLO > 0 && lat > opts.SLO {
				s.over++
			}
			x, y := at.Seconds(), (st - at).Seconds()
			s.sx, s.sy, s.sxx, s.sxy, s.n = s.sx+x, s.sy+y, s.sxx+x*x, s.sxy+x*y, s.n+1
		}
		s.done += n
		s.batches[n]++
		s.last = max(s.last, end)
		svc.Check(w, first, n)
	}

	var wg sync.WaitGroup
	if maxBatch == 1 {
		for w, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range queue {
					serve(s, w, int(i), 1)
				}
			}()
		}
	} else {
		idle := make(chan int, opts.Servers)
		work := make([]chan batch, opts.Servers)
		for w, s := range servers {
			idle <- w
			work[w] = make(chan batch, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range work[w] {
					serve(s, w, b.first, b.n)
					idle <- w
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				for _, c := range work {
					close(c)
				}
			}()
			batchLoop(queue, idle, work, sched, maxBatch, opts, now)
		}()
	}

	// The watchdog abandons what is still queued Drain after the last
	// arrival, or at once when ctx ends.
	issued := make(chan struct{})
	stopWatch := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			abandon.Store(true)
			return
		case <-issued:
		case <-stopWatch:
			return
		}
		t := time.NewTimer(drain)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-stopWatch:
			return
		}
		abandon.Store(true)
	}()

	// The issuer: each request at its time, whatever the servers do.
	sent := len(sched)
	for i, at := range sched {
		for {
			d := at - now()
			if d <= 0 {
				break
			}
			if d > spin {
				time.Sleep(d - spin)
			} else {
				runtime.Gosched()
			}
		}
		if abandon.Load() {
			sent = i
			break
		}
		record(lateness, now()-at)
		queue <- int32(i)
	}
	close(queue)
	close(issued)
	wg.Wait()
	close(stopWatch)

	o := &Outcome{Requests: len(sched), Latency: newHist(), Queueing: newHist(), Service: newHist(), Lateness: lateness, Batches: make([]int64, maxBatch+1)}
	var sx, sy, sxx, sxy, n float64
	for _, s := range servers {
		o.Latency.Merge(s.lat)
		o.Queueing.Merge(s.queue)
		o.Service.Merge(s.svc)
		o.Completed += s.done
		o.Unfinished += s.left
		o.OverSLO += s.over
		o.Span = max(o.Span, s.last)
		for k, c := range s.batches {
			o.Batches[k] += c
		}
		sx, sy, sxx, sxy, n = sx+s.sx, sy+s.sy, sxx+s.sxx, sxy+s.sxy, n+s.n
	}
	o.Unfinished += len(sched) - sent
	if last := sched[len(sched)-1] - sched[0]; len(sched) > 1 && last > 0 {
		o.Offered = float64(len(sched)-1) / last.Seconds()
	}
	if o.Span > 0 {
		o.Achieved = float64(o.Completed) / (o.Span - sched[0]).Seconds()
	}
	if d := n*sxx - sx*sx; n > 2 && d > 0 {
		o.QueueGrowth = (n*sxy - sx*sy) / d
	}
	o.judge()
	select {
	case err := <-errc:
		return o, err
	default:
	}
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	return o, nil
}

// judge decides whether the servers kept up.
func (o *Outcome) judge() {
	switch {
	case o.Unfinished > 0:
		o.Saturated, o.Why = true, fmt.Sprintf("%d of %d requests still unfinished after the drain time", o.Unfinished, o.Requests)
	case o.Offered > 0 && o.Achieved < (1-SaturationTolerance)*o.Offered:
		o.Saturated, o.Why = true, fmt.Sprintf("achieved %.0f requests/s of %.0f offered (more than %.0f%% short)", o.Achieved, o.Offered, 100*SaturationTolerance)
	case o.QueueGrowth > SaturationTolerance:
		o.Saturated, o.Why = true, fmt.Sprintf("the queue kept growing: queueing delay rose %.3f s per second of arrivals", o.QueueGrowth)
	}
}

// batchLoop is the dynamic batcher: for each free server it takes the
// oldest queued request and up to maxBatch−1 more; while fewer are queued
// it waits for more until the oldest has waited MaxDelay since its
// scheduled arrival. A full batch goes at once.
func batchLoop(queue <-chan int32, idle <-chan int, work []chan batch, sched []time.Duration, maxBatch int, opts Options, now func() time.Duration) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		w := <-idle
		i, ok := <-queue
		if !ok {
			return
		}
		b := batch{first: int(i), n: 1}
		deadline := sched[b.first] + opts.MaxDelay
		closed := false
	form:
		for b.n < maxBatch && !(opts.Slots > 0 && (b.first+b.n)%opts.Slots == 0) {
			select {
			case _, ok := <-queue:
				if !ok {
					closed = true
					break form
				}
				b.n++
				continue
			default:
			}
			d := deadline - now()
			if d <= 0 {
				break
			}
			timer.Reset(d)
			select {
			case _, ok := <-queue:
				timer.Stop()
				if !ok {
					closed = true
					break form
				}
				b.n++
			case <-timer.C:
				break form
			}
		}
		if opts.OnBatch != nil {
			opts.OnBatch(b.first, b.n, now())
		}
		work[w] <- b
		if closed {
			return
		}
	}
}
