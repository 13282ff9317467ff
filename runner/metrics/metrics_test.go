package metrics

import (
	"testing"
	"time"
)

func TestRecorderQuantiles(t *testing.T) {
	recs := NewRecorders(2)
	for i := 1; i <= 100; i++ {
		recs.Get(i % 2).Record(time.Duration(i) * time.Millisecond)
	}
	all := NewRecorder()
	recs.Merge(all)
	q := all.Latency([]float64{50, 99, 99.9})
	if all.Count() != 100 {
		t.Fatalf("count %d", all.Count())
	}
	near := func(got, want float64) bool { return got > want*0.99 && got < want*1.01 }
	if !near(q.P50, 0.050) || !near(q.P99, 0.099) || !near(q.At(99.9), 0.100) || !near(q.Max, 0.100) || len(q.Listed) != 1 {
		t.Fatalf("quantiles %+v", q)
	}
}

func TestRecordNoAlloc(t *testing.T) {
	r := NewRecorder()
	if n := testing.AllocsPerRun(1000, func() { r.Record(1234 * time.Nanosecond) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{10, 11, 9, 10, 10, 10.5, 9.5, 10})
	if s.Median != 10 || s.Lo > s.Median || s.Hi < s.Median || s.Warning != "" {
		t.Fatalf("%+v", s)
	}
	few := Summarize([]float64{1, 2})
	if few.Warning == "" || few.Lo != 0 {
		t.Fatalf("too few samples must warn: %+v", few)
	}
}

func TestSamplerAndCPU(t *testing.T) {
	s := StartSampler(5*time.Millisecond, Self)
	c0 := SelfCPU()
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i ^ (x >> 3)
	}
	pts, peak, procs := s.Stop()
	if len(pts) < 2 || peak.RSS == 0 || procs != 1 {
		t.Fatalf("points %d peak %+v procs %d", len(pts), peak, procs)
	}
	if SelfCPU().Sub(c0).Total() <= 0 {
		t.Fatal("no CPU time measured")
	}
	_ = x
	if ResetPeakRSS() && PeakRSS() == 0 {
		t.Fatal("VmHWM unreadable after reset")
	}
}

// TestRecordersAllocateOnUse: 100,000 recorders hold no histogram until
// they record (6 GB up front before), and merge what was recorded.
func TestRecordersAllocateOnUse(t *testing.T) {
	recs := NewRecorders(100000)
	if n := recs.Allocated(); n != 0 {
		t.Fatalf("%d histograms allocated up front", n)
	}
	recs.Get(7).Record(time.Millisecond)
	recs.Get(99999).Record(2 * time.Millisecond)
	if n := recs.Allocated(); n != 2 {
		t.Fatalf("%d histograms allocated, want 2", n)
	}
	all := NewRecorder()
	recs.Merge(all)
	if all.Count() != 2 || all.Latency(nil).Max < 0.002 {
		t.Fatalf("merged %d, max %v", all.Count(), all.Latency(nil).Max)
	}
	recs.Reset()
	if l := NewRecorder().Latency([]float64{90}); l.Mean != 0 || l.P99 != 0 || l.Max != 0 || len(l.Listed) != 1 || l.Listed[0].Seconds != 0 {
		t.Fatal("an empty recorder has quantiles")
	}
}
