package serve

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
)

// Service serves requests, identified by their index in the schedule.
// Run is timed as the service time; Check (verification) runs after the
// completion was recorded, untimed. Server goroutine w calls only Run(w, …)
// and Check(w, …), so a Service may keep per-server state without locks.
type Service interface {
	Run(w, first, n int) error
	Check(w, first, n int)
}

// Options is one run: open loop (Schedule) or closed loop (Clients).
type Options struct {
	// Schedule is every request's arrival time, from the start (open loop).
	Schedule []time.Duration
	// MaxInFlight > 0 caps an open loop: an arrival that finds that many
	// requests admitted and unfinished is dropped — counted, never queued
	// or sent later (k6's dropped_iterations).
	MaxInFlight int
	// Clients > 0 makes the run a closed loop instead: that many clients,
	// each sending its next request the moment its last one returns, until
	// the last of Duration and MinRequests (or Deadline, or Reserve
	// requests: the memory reserved for their times, 12 bytes each).
	Clients              int
	Duration, Deadline   time.Duration
	MinRequests, Reserve int
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
	// Breaks[i]: a batch never holds request i but as its first (the
	// dataset wraps there, for requests of many sizes); nil: none.
	Breaks []bool
	// SLO counts the requests whose latency exceeds it (0: none).
	SLO time.Duration
	// Drain is how long after the last arrival the run waits for the
	// requests still queued; those left are unfinished (0: 2s).
	Drain time.Duration
	// Spin: the issuer sleeps until Spin before each arrival, then yields
	// in a loop until it (0: 50µs; < 0: it sleeps the whole wait, as a
	// simulated clock needs, where a yielding loop would never end).
	Spin time.Duration
	// Records keeps every request's start and end (16 bytes a request,
	// reserved before the load) for Outcome.Starts and Ends.
	Records bool
	// OnBatch, when set, is called by the batcher as it dispatches each
	// batch (tests).
	OnBatch func(first, n int, dispatched time.Duration)
}

// Outcome is what one run measured.
type Outcome struct {
	Requests, Completed, Unfinished int
	// Dropped counts the arrivals refused at the MaxInFlight cap.
	Dropped int
	// Clients is the closed loop's concurrency (0: open loop).
	Clients int
	// Latency runs from the scheduled arrival to completion; Queueing from
	// the scheduled arrival to the start of service; Service is the rest.
	// Lateness is the issuer's error: actual − scheduled send time.
	Latency, Queueing, Service, Lateness *metrics.Recorder
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
	// Schedule is each request's scheduled arrival; with Options.Records,
	// Starts and Ends its service start and end (Ends[i] < 0: not served;
	// Starts[i] < 0 too: dropped at the cap).
	Schedule, Starts, Ends []time.Duration
	// EndedEarly says why the issuer ended an over-saturated load before
	// its schedule did ("": it did not).
	EndedEarly string
	// Saturated: the servers did not keep up (Why says how).
	Saturated bool
	Why       string
}

// SaturationTolerance is how far achieved QPS may fall below offered, or
// queueing delay grow per second of arrivals, before a run is saturated.
const SaturationTolerance = 0.05

// server is one serving goroutine's own recorders: no locks, no
// allocation while serving (reserved before the load); merged at the end.
type server struct {
	lat, queue, svc     *metrics.Recorder
	done, over, left    int
	last                time.Duration
	sx, sy, sxx, sxy, n float64
	batches             []int64
}

type batch struct{ first, n int }

// openLoop is one run in progress: the issuer, the servers and the
// watchdog share it; each server writes only its own server.
type openLoop struct {
	svc      Service
	opts     Options
	maxBatch int
	servers  []*server
	lateness *metrics.Recorder
	queue    chan int32
	abandon  atomic.Bool
	inFlight atomic.Int64 // admitted, unfinished (the MaxInFlight cap)
	dropped  int          // the issuer's alone
	early    string       // the issuer's: why it ended the load early
	window   struct {     // the issuer's: its last over-saturation check
		at            time.Duration
		done, backlog int64
		capacity      float64
	}
	// The closed loop's: owner[i] is the client that sent request i, done
	// its wake-up; mu orders numbering and queueing (the batcher needs
	// requests queued in index order).
	owner        []int32
	starts, ends []time.Duration // Options.Records: written once per request by its server
	done         []chan time.Duration
	mu           sync.Mutex
	next         int
	errc         chan error
	t0           time.Time
}

// Run issues opts.Schedule's requests to svc at their scheduled times,
// never waiting for an earlier one to finish, or, with opts.Clients, runs
// the closed loop; and measures them.
func Run(ctx context.Context, svc Service, opts Options) (*Outcome, error) {
	l, err := newLoad(svc, opts)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	l.startServers(&wg)
	issued, stopWatch := make(chan struct{}), make(chan struct{})
	go l.watch(ctx, issued, stopWatch)
	var sent int
	if opts.Clients > 0 {
		sent = l.clients(ctx)
	} else {
		sent = l.issue()
	}
	close(l.queue)
	close(issued)
	wg.Wait()
	close(stopWatch)
	o := l.outcome(sent)
	select {
	case err := <-l.errc:
		return o, err
	default:
	}
	return o, ctx.Err()
}

// newLoad checks opts, fills its defaults and reserves every recorder.
func newLoad(svc Service, opts Options) (*openLoop, error) {
	if opts.Clients > 0 {
		if opts.Reserve < 1 || opts.Duration <= 0 {
			return nil, fmt.Errorf("closed loop: reserve %d requests over %s", opts.Reserve, opts.Duration)
		}
		opts.Schedule = make([]time.Duration, opts.Reserve)
	}
	if len(opts.Schedule) == 0 {
		return nil, errors.New("no requests scheduled")
	}
	if opts.Servers < 1 {
		return nil, fmt.Errorf("%d servers", opts.Servers)
	}
	if opts.Drain <= 0 {
		opts.Drain = 2 * time.Second
	}
	if opts.Spin == 0 {
		opts.Spin = 50 * time.Microsecond
	}
	l := &openLoop{svc: svc, opts: opts, maxBatch: max(opts.MaxBatch, 1), lateness: metrics.NewRecorder().Reserve(),
		queue: make(chan int32, len(opts.Schedule)), errc: make(chan error, opts.Servers)}
	if opts.Clients > 0 {
		l.owner, l.done = make([]int32, opts.Reserve), make([]chan time.Duration, opts.Clients)
		for c := range l.done {
			l.done[c] = make(chan time.Duration, 1)
		}
	}
	if opts.Records {
		l.starts, l.ends = make([]time.Duration, len(opts.Schedule)), make([]time.Duration, len(opts.Schedule))
		for i := range l.ends {
			l.ends[i] = -1
		}
	}
	l.servers = make([]*server, opts.Servers)
	for i := range l.servers {
		l.servers[i] = &server{lat: metrics.NewRecorder().Reserve(), queue: metrics.NewRecorder().Reserve(),
			svc: metrics.NewRecorder().Reserve(), batches: make([]int64, l.maxBatch+1)}
	}
	return l, nil
}

func (l *openLoop) now() time.Duration { return time.Since(l.t0) }

// fail keeps the first error and abandons what is still queued.
func (l *openLoop) fail(err error) {
	select {
	case l.errc <- err:
	default:
	}
	l.abandon.Store(true)
}

// serve runs requests first..first+n−1 on server w and records them.
func (l *openLoop) serve(s *server, w, first, n int) {
	l.finished(first, n, l.run(s, w, first, n))
}

// run serves and records the requests and returns when they ended.
func (l *openLoop) run(s *server, w, first, n int) time.Duration {
	if l.abandon.Load() {
		s.left += n
		return l.now()
	}
	st := l.now()
	if err := l.svc.Run(w, first, n); err != nil {
		l.fail(fmt.Errorf("requests %d..%d: %w", first, first+n-1, err))
		s.left += n
		return l.now()
	}
	end := l.now()
	for i := first; i < first+n; i++ {
		if l.ends != nil {
			l.starts[i], l.ends[i] = st, end
		}
		at := l.opts.Schedule[i]
		lat := end - at
		s.lat.Record(lat)
		s.queue.Record(st - at)
		s.svc.Record(end - st)
		if l.opts.SLO > 0 && lat > l.opts.SLO {
			s.over++
		}
		x, y := at.Seconds(), (st - at).Seconds()
		s.sx, s.sy, s.sxx, s.sxy, s.n = s.sx+x, s.sy+y, s.sxx+x*x, s.sxy+x*y, s.n+1
	}
	s.done += n
	s.batches[n]++
	s.last = max(s.last, end)
	l.svc.Check(w, first, n)
	return end
}

// finished frees the requests' places under the cap and tells their
// clients (closed loop) when they ended, served or abandoned.
func (l *openLoop) finished(first, n int, end time.Duration) {
	l.inFlight.Add(-int64(n))
	if l.done == nil {
		return
	}
	for i := first; i < first+n; i++ {
		l.done[l.owner[i]] <- end
	}
}

// startServers starts the serving goroutines: each takes the next request
// from the queue, or, with a batcher, the batches batchLoop forms.
func (l *openLoop) startServers(wg *sync.WaitGroup) {
	l.t0 = time.Now()
	if l.maxBatch == 1 {
		for w, s := range l.servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range l.queue {
					l.serve(s, w, int(i), 1)
				}
			}()
		}
		return
	}
	idle := make(chan int, len(l.servers))
	work := make([]chan batch, len(l.servers))
	for w, s := range l.servers {
		idle <- w
		work[w] = make(chan batch, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work[w] {
				l.serve(s, w, b.first, b.n)
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
		batchLoop(l.queue, idle, work, l.opts.Schedule, l.maxBatch, l.opts, l.now)
	}()
}

// watch abandons what is still queued Drain after the last arrival, or at
// once when ctx ends.
func (l *openLoop) watch(ctx context.Context, issued, stop <-chan struct{}) {
	select {
	case <-ctx.Done():
		l.abandon.Store(true)
		return
	case <-issued:
	case <-stop:
		return
	}
	t := time.NewTimer(l.opts.Drain)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-stop:
		return
	}
	l.abandon.Store(true)
}

// issue sends each request at its time, whatever the servers do, and
// returns how many it sent before the load was abandoned.
func (l *openLoop) issue() int {
	for i, at := range l.opts.Schedule {
		for {
			d := at - l.now()
			if d <= 0 {
				break
			}
			if l.opts.Spin < 0 {
				time.Sleep(d)
			} else if d > l.opts.Spin {
				nap(d - l.opts.Spin)
			} else {
				runtime.Gosched()
			}
		}
		if l.abandon.Load() {
			return i
		}
		l.lateness.Record(l.now() - at)
		if i%overCheckEvery == 0 && l.overSaturated(i) {
			l.abandon.Store(true)
			return i
		}
		if c := l.opts.MaxInFlight; c > 0 && l.inFlight.Load() >= int64(c) {
			l.dropped++
			if l.starts != nil {
				l.starts[i] = -1 // the records' mark of a drop
			}
			continue
		}
		l.inFlight.Add(1)
		l.queue <- int32(i)
	}
	return len(l.opts.Schedule)
}

// overCheckEvery is how many arrivals apart the issuer checks for
// over-saturation.
const overCheckEvery = 256

// overSaturated reports, before arrival i, whether the load can no longer
// end without unfinished requests: the backlog in flight is more than
// the servers can finish before the drain ends, even if nothing more
// arrived. Then the rest of the load would only wait out the drain; it
// ends now, with the reason (GuideLLM stops an over-saturated load; this
// is a prediction of LoadGen's own verdict rather than a trend test). The
// servers' capacity is the fastest completion rate seen over a window in
// which they were busy throughout (a backlog of at least one request a
// server at its start and end): no such window, no decision — so neither
// a warm-up nor a stall ends a load, only a backlog that the servers,
// running flat out, demonstrably cannot clear.
func (l *openLoop) overSaturated(i int) bool {
	sched, now := l.opts.Schedule, l.now()
	backlog := l.inFlight.Load()
	done := int64(i-l.dropped) - backlog
	w := &l.window
	busy := int64(len(l.servers) * l.maxBatch)
	if w.at > 0 && now > w.at && backlog >= busy && w.backlog >= busy {
		w.capacity = max(w.capacity, float64(done-w.done)/(now-w.at).Seconds())
	}
	w.at, w.done, w.backlog = now, done, backlog
	left := (sched[len(sched)-1] - now + l.opts.Drain).Seconds()
	if w.capacity <= 0 || float64(backlog) <= w.capacity*left {
		return false
	}
	l.early = fmt.Sprintf("over-saturated: %d requests in flight at %.2fs, more than the servers' %.0f/s can finish in the %.2fs left with the drain; the load ended early, %d of %d arrivals sent",
		backlog, now.Seconds(), w.capacity, left, i, len(sched))
	return true
}

// clients runs the closed loop's clients and returns how many requests
// they sent. Each request is due the moment the client's last one ended
// (the first at 0): its latency counts from then, and the client's own
// delay in sending it is the generator's scheduling error, as in the open
// loop.
func (l *openLoop) clients(ctx context.Context) int {
	var wg sync.WaitGroup
	for c := range l.opts.Clients {
		wg.Go(func() {
			var due time.Duration
			for l.send(ctx, int32(c), due) {
				due = <-l.done[c]
			}
		})
	}
	wg.Wait()
	return l.next
}

// send queues client c's next request, due at due, or reports that the
// load is over.
func (l *openLoop) send(ctx context.Context, c int32, due time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, o := l.now(), l.opts
	over := t >= o.Duration && l.next >= o.MinRequests
	if over || (o.Deadline > 0 && t >= o.Deadline) || l.next == len(o.Schedule) || l.abandon.Load() || ctx.Err() != nil {
		return false
	}
	i := l.next
	l.next++
	o.Schedule[i], l.owner[i] = due, c
	l.lateness.Record(t - due)
	l.inFlight.Add(1)
	l.queue <- int32(i)
	return true
}

// outcome merges the servers' recorders and derives the load's figures.
func (l *openLoop) outcome(sent int) *Outcome {
	sched := l.opts.Schedule
	if l.opts.Clients > 0 { // the closed loop sent what it sent
		sched = sched[:sent]
	}
	o := &Outcome{Requests: len(sched), Dropped: l.dropped, EndedEarly: l.early, Schedule: sched, Clients: l.opts.Clients, Latency: metrics.NewRecorder(), Queueing: metrics.NewRecorder(), Service: metrics.NewRecorder(),
		Lateness: l.lateness, Batches: make([]int64, l.maxBatch+1)}
	if l.ends != nil {
		o.Starts, o.Ends = l.starts[:len(sched)], l.ends[:len(sched)]
	}
	var sx, sy, sxx, sxy, n float64
	for _, s := range l.servers {
		o.Latency.Add(s.lat)
		o.Queueing.Add(s.queue)
		o.Service.Add(s.svc)
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
	if len(sched) == 0 {
		o.judge()
		return o
	}
	if last := sched[len(sched)-1] - sched[0]; l.opts.Clients == 0 && len(sched) > 1 && last > 0 {
		o.Offered = float64(len(sched)-1) / last.Seconds()
	}
	if o.Span > 0 {
		o.Achieved = float64(o.Completed) / (o.Span - sched[0]).Seconds()
	}
	if d := n*sxx - sx*sx; n > 2 && d > 0 {
		o.QueueGrowth = (n*sxy - sx*sy) / d
	}
	o.judge()
	return o
}

// judge decides whether the servers kept up.
func (o *Outcome) judge() {
	switch {
	case o.EndedEarly != "":
		o.Saturated, o.Why = true, o.EndedEarly
	case o.Dropped > 0 && float64(o.Dropped) > SaturationTolerance*float64(o.Requests):
		o.Saturated, o.Why = true, fmt.Sprintf("%d of %d arrivals (%.1f%%) dropped at the in-flight cap", o.Dropped, o.Requests, 100*float64(o.Dropped)/float64(o.Requests))
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
// scheduled arrival. A full batch goes at once. A batch is consecutive
// requests: one that does not follow it (the arrivals between were
// dropped at the cap) starts the next batch instead.
func batchLoop(queue <-chan int32, idle <-chan int, work []chan batch, sched []time.Duration, maxBatch int, opts Options, now func() time.Duration) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	next := int32(-1) // received after a gap: the next batch's first
	for {
		w := <-idle
		i, ok := next, true
		if i < 0 {
			if i, ok = <-queue; !ok {
				return
			}
		}
		next = -1
		b := batch{first: int(i), n: 1}
		deadline := sched[b.first] + opts.MaxDelay
		closed := false
		add := func(j int32, ok bool) bool { // takes j if it follows the batch
			switch {
			case !ok:
				closed = true
			case int(j) != b.first+b.n:
				next = j
			default:
				b.n++
				return true
			}
			return false
		}
	form:
		for b.n < maxBatch && !breaksAt(opts, b.first+b.n) {
			select {
			case j, ok := <-queue:
				if !add(j, ok) {
					break form
				}
				continue
			default:
			}
			d := deadline - now()
			if d <= 0 {
				break
			}
			timer.Reset(d)
			select {
			case j, ok := <-queue:
				timer.Stop()
				if !add(j, ok) {
					break form
				}
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

// breaksAt reports whether request i must start a batch: the requests'
// rows wrap around the dataset there (Slots, Breaks).
func breaksAt(opts Options, i int) bool {
	return (opts.Slots > 0 && i%opts.Slots == 0) || (i < len(opts.Breaks) && opts.Breaks[i])
}
