package serve

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestSizedLayout: requests of a trace's sizes take the dataset's rows in
// order, repeating the sizes, and start again at row 0 where the next
// would not fit: a break.
func TestSizedLayout(t *testing.T) {
	s := &service{}
	breaks, mean := s.sized([]int32{3, 5, 4}, 7, 10)
	// rows: [0,3) [3,8) | [0,4) [4,7) | [0,5) [5,9) | [0,3)
	if !slices.Equal(s.at, []int32{0, 3, 0, 4, 0, 5, 0}) || !slices.Equal(s.rows, []int32{3, 5, 4, 3, 5, 4, 3}) {
		t.Fatalf("at %v rows %v", s.at, s.rows)
	}
	if !slices.Equal(breaks, []bool{false, false, true, false, true, false, true}) || mean != 27.0/7 {
		t.Errorf("breaks %v, mean %g", breaks, mean)
	}
	if start, rows := s.span(0, 2); start != 0 || rows != 8 {
		t.Errorf("span of requests 0, 1: rows %d + %d", start, rows)
	}
	if start, rows := s.span(5, 1); start != 5 || rows != 4 {
		t.Errorf("span of request 5: rows %d + %d", start, rows)
	}
	if b, m := s.sized(nil, 7, 10); b != nil || m != 0 || s.at != nil {
		t.Errorf("unsized: %v %g %v", b, m, s.at)
	}
}

// TestBatcherKeepsBreaks: the batcher never puts a request that starts a
// new pass of the dataset anywhere but first in a batch.
func TestBatcherKeepsBreaks(t *testing.T) {
	const n = 400
	breaks := make([]bool, n)
	for i := 5; i < n; i += 7 {
		breaks[i] = true
	}
	var mu sync.Mutex
	var bad []int
	batched := 0
	synctest.Test(t, func(t *testing.T) {
		sched := make([]time.Duration, n) // all at once: full batches wherever allowed
		_, err := Run(context.Background(), sim{[]time.Duration{time.Millisecond}}, Options{Schedule: sched, Servers: 1, MaxBatch: 8,
			MaxDelay: time.Millisecond, Breaks: breaks, Spin: -1, OnBatch: func(first, k int, _ time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				batched += k
				for i := first + 1; i < first+k; i++ {
					if breaks[i] {
						bad = append(bad, i)
					}
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
	})
	if len(bad) > 0 || batched != n {
		t.Errorf("%d requests batched; breaks inside batches at %v", batched, bad)
	}
}

// servedOnce serves each request in d and counts the times it was served.
type servedOnce struct {
	d      time.Duration
	served []int32
	mu     sync.Mutex
}

func (s *servedOnce) Run(_, first, n int) error {
	s.mu.Lock()
	for i := first; i < first+n; i++ {
		s.served[i]++
	}
	s.mu.Unlock()
	time.Sleep(time.Duration(n) * s.d)
	return nil
}
func (*servedOnce) Check(_, _, _ int) {}

// TestBatcherServesOnlySent: with the cap dropping arrivals, the batcher
// serves exactly the requests sent, each once — a dropped request's index
// is never taken into a batch in place of a later one — and the records
// agree with the counts.
func TestBatcherServesOnlySent(t *testing.T) {
	const n = 20_000
	var o *Outcome
	svc := &servedOnce{d: 400 * time.Microsecond, served: make([]int32, n)}
	synctest.Test(t, func(t *testing.T) {
		sched, err := schedule("poisson", 4000, n, 3) // past the 2 servers' 2 × 8 ÷ 3.2 ms
		if err != nil {
			t.Fatal(err)
		}
		o, err = Run(context.Background(), svc, Options{Schedule: sched, Servers: 2, MaxBatch: 8, MaxDelay: 500 * time.Microsecond,
			MaxInFlight: 12, Spin: -1, Records: true})
		if err != nil {
			t.Fatal(err)
		}
	})
	if o.Dropped == 0 {
		t.Fatal("nothing dropped: the test needs drops")
	}
	var served, dropped int
	for i := range n {
		switch {
		case o.Starts[i] < 0:
			dropped++
			if svc.served[i] != 0 {
				t.Fatalf("dropped request %d served %d times", i, svc.served[i])
			}
		case svc.served[i] != 1 || o.Ends[i] < 0:
			t.Fatalf("sent request %d served %d times, end %s", i, svc.served[i], o.Ends[i])
		default:
			served++
		}
	}
	if served != o.Completed || dropped != o.Dropped || o.Unfinished != 0 {
		t.Errorf("served %d of %d completed, dropped %d of %d, unfinished %d", served, o.Completed, dropped, o.Dropped, o.Unfinished)
	}
}
