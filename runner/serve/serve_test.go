package serve

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeService serves instantly, except that request stall sleeps for
// stallFor; it counts how often each request was served.
type fakeService struct {
	stall    int
	stallFor time.Duration
	hits     []atomic.Int32
	checked  atomic.Int64
}

func newFake(n int) *fakeService { return &fakeService{stall: -1, hits: make([]atomic.Int32, n)} }

func (f *fakeService) Run(_, first, n int) error {
	for i := first; i < first+n; i++ {
		f.hits[i].Add(1)
		if i == f.stall {
			time.Sleep(f.stallFor)
		}
	}
	return nil
}
func (f *fakeService) Check(_, _, n int) { f.checked.Add(int64(n)) }

func (f *fakeService) once(t *testing.T) {
	t.Helper()
	for i := range f.hits {
		if h := f.hits[i].Load(); h != 1 {
			t.Fatalf("request %d served %d times", i, h)
		}
	}
	if int(f.checked.Load()) != len(f.hits) {
		t.Fatalf("checked %d of %d", f.checked.Load(), len(f.hits))
	}
}

// TestCoordinatedOmission: one request stalls the only server for 100 ms.
// The requests scheduled during the stall keep their arrival times, so
// their latency shows the stall; a closed-loop client would have sent them
// after it and seen one slow request.
func TestCoordinatedOmission(t *testing.T) {
	const n = 400
	sched, _ := schedule("constant", 1000, n, 0)
	f := newFake(n)
	f.stall, f.stallFor = 100, 100*time.Millisecond
	o, err := Run(context.Background(), f, Options{Schedule: sched, Servers: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.once(t)
	if o.Completed != n || o.Unfinished != 0 {
		t.Fatalf("completed %d, unfinished %d", o.Completed, o.Unfinished)
	}
	// Requests 101..~190 arrived during the stall: ~90 of 400 (22%) waited
	// more than 10 ms. Closed-loop, only request 100 would (0.25%).
	if p := o.Latency.Quantile(85); time.Duration(p) < 10*time.Millisecond {
		t.Errorf("p85 latency %s: the stall is hidden", time.Duration(p))
	}
	if p := o.Queueing.Quantile(85); time.Duration(p) < 10*time.Millisecond {
		t.Errorf("p85 queueing %s: the stall is not counted as queueing", time.Duration(p))
	}
	if m := time.Duration(o.Latency.Max()); m < 100*time.Millisecond {
		t.Errorf("max latency %s < the 100 ms stall", m)
	}
	// The service time itself was slow once only.
	if p := o.Service.Quantile(99); time.Duration(p) >= 100*time.Millisecond {
		t.Errorf("p99 service %s: more than one slow call", time.Duration(p))
	}
}

func TestBatcherFullBatchAtOnce(t *testing.T) {
	sched := make([]time.Duration, 8) // all at once
	f := newFake(len(sched))
	var mu sync.Mutex
	var sizes []int
	var at []time.Duration
	o, err := Run(context.Background(), f, Options{Schedule: sched, Servers: 1, MaxBatch: 4, MaxDelay: 10 * time.Second,
		OnBatch: func(_, n int, d time.Duration) {
			mu.Lock()
			sizes, at = append(sizes, n), append(at, d)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.once(t)
	if !slices.Equal(sizes, []int{4, 4}) || o.Batches[4] != 2 {
		t.Fatalf("batches %v (counted %v), want two full batches", sizes, o.Batches)
	}
	for _, d := range at {
		if d > 5*time.Second { // max_delay is 10 s: a full batch must not wait for it
			t.Errorf("a full batch was dispatched after %s", d)
		}
	}
}

func TestBatcherWaitsAtMostMaxDelay(t *testing.T) {
	const delay = 200 * time.Millisecond
	sched := []time.Duration{0, 0, 0, time.Second}
	f := newFake(len(sched))
	var sizes []int
	var at []time.Duration
	_, err := Run(context.Background(), f, Options{Schedule: sched, Servers: 1, MaxBatch: 8, MaxDelay: delay,
		OnBatch: func(_, n int, d time.Duration) { sizes, at = append(sizes, n), append(at, d) }})
	if err != nil {
		t.Fatal(err)
	}
	f.once(t)
	if !slices.Equal(sizes, []int{3, 1}) {
		t.Fatalf("batches %v, want [3 1]", sizes)
	}
	// Timers never fire early; the upper bounds are generous (a loaded machine).
	if at[0] < delay || at[0] > delay+600*time.Millisecond {
		t.Errorf("the 3 queued requests went after %s, want max_delay %s (not the next arrival at 1s)", at[0], delay)
	}
	// The last request is the schedule's last: no more can come, so it
	// goes at once rather than after max_delay.
	if at[1] < time.Second || at[1] > time.Second+delay {
		t.Errorf("the last request went after %s, want at once after its arrival at 1s", at[1])
	}
}

func TestBatcherFormation(t *testing.T) {
	const n, maxBatch, slots = 3000, 5, 7
	sched, _ := schedule("poisson", 20000, n, 7)
	f := newFake(n)
	var batches [][2]int
	o, err := Run(context.Background(), f, Options{Schedule: sched, Servers: 2, MaxBatch: maxBatch, MaxDelay: time.Millisecond, Slots: slots,
		OnBatch: func(first, k int, _ time.Duration) { batches = append(batches, [2]int{first, k}) }})
	if err != nil {
		t.Fatal(err)
	}
	f.once(t)
	next := 0
	for _, b := range batches {
		if b[1] < 1 || b[1] > maxBatch {
			t.Fatalf("batch of %d (max %d)", b[1], maxBatch)
		}
		if b[0] != next {
			t.Fatalf("batch starts at %d, want %d (arrival order)", b[0], next)
		}
		if b[0]/slots != (b[0]+b[1]-1)/slots {
			t.Fatalf("batch %d+%d wraps past the dataset's end", b[0], b[1])
		}
		next += b[1]
	}
	var total int64
	for k, c := range o.Batches {
		total += int64(k) * c
	}
	if next != n || total != n {
		t.Fatalf("batched %d, counted %d, want %d", next, total, n)
	}
}

func TestSaturatedWhenServersFallBehind(t *testing.T) {
	sched, _ := schedule("constant", 2000, 400, 0) // 0.2 s of arrivals
	slow := &sleeper{d: 2 * time.Millisecond}      // capacity ≤ 500/s
	o, err := Run(context.Background(), slow, Options{Schedule: sched, Servers: 1, Drain: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Saturated || o.Why == "" {
		t.Fatalf("not saturated: offered %.0f achieved %.0f growth %.3f unfinished %d", o.Offered, o.Achieved, o.QueueGrowth, o.Unfinished)
	}
	if o.Completed+o.Unfinished != o.Requests {
		t.Errorf("completed %d + unfinished %d != %d", o.Completed, o.Unfinished, o.Requests)
	}
}

type sleeper struct{ d time.Duration }

func (s *sleeper) Run(_, _, _ int) error { time.Sleep(s.d); return nil }
func (s *sleeper) Check(_, _, _ int)     {}
