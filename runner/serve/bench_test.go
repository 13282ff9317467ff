package serve

import (
	"context"
	"runtime"
	"testing"
	"time"
)

type noop struct{}

func (noop) Run(_, _, _ int) error { return nil }
func (noop) Check(_, _, _ int)     {}

// BenchmarkLoadGenerator: the open-loop generator against a no-op service
// at 100k requests/s on one core (GOMAXPROCS=1): it reports the achieved
// rate and the scheduling error (actual − scheduled send) p99 in µs.
func BenchmarkLoadGenerator(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	const qps = 100_000
	sched, err := schedule("constant", qps, 200_000, 1) // 2 s
	if err != nil {
		b.Fatal(err)
	}
	var achieved, p99, p50 float64
	b.ResetTimer()
	for range b.N {
		o, err := Run(context.Background(), noop{}, Options{Schedule: sched, Servers: 1})
		if err != nil {
			b.Fatal(err)
		}
		if o.Completed != len(sched) {
			b.Fatalf("completed %d of %d", o.Completed, len(sched))
		}
		achieved += o.Achieved
		p99 += float64(o.Lateness.Quantile(99)) / float64(time.Microsecond)
		p50 += float64(o.Lateness.Quantile(50)) / float64(time.Microsecond)
	}
	b.ReportMetric(achieved/float64(b.N), "requests/s")
	b.ReportMetric(p50/float64(b.N), "sched-err-p50-µs")
	b.ReportMetric(p99/float64(b.N), "sched-err-p99-µs")
}
