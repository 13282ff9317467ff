package serve

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/load"
)

type noop struct{}

func (noop) Run(_, _, _ int) error { return nil }
func (noop) Check(_, _, _ int)     {}

// BenchmarkLoadGenerator: each pattern's generator against a no-op service
// at 100k requests/s on one core (GOMAXPROCS=1), and the closed loop (4
// clients) as fast as it goes: it reports the achieved rate and the
// scheduling error (actual − scheduled send) p50 and p99 in µs.
func BenchmarkLoadGenerator(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	const qps = 100_000
	for _, name := range []string{"constant", "poisson", "gamma", "closed"} {
		b.Run(name, func(b *testing.B) {
			opts := Options{Servers: 1, Clients: 4, Duration: 2 * time.Second, MinRequests: 1, Reserve: 8 << 20}
			if name != "closed" {
				p, err := load.Default().Pacer(name, load.Spec{Rate: qps, Seed: 1, Shape: 0.5})
				if err != nil {
					b.Fatal(err)
				}
				if opts.Schedule, err = load.Schedule(p, 2*time.Second, 1); err != nil {
					b.Fatal(err)
				}
				opts.Clients = 0
			}
			var achieved, p99, p50 float64
			b.ResetTimer()
			for range b.N {
				o, err := Run(context.Background(), noop{}, opts)
				if err != nil {
					b.Fatal(err)
				}
				if o.Completed != o.Requests || o.Completed == 0 {
					b.Fatalf("completed %d of %d", o.Completed, o.Requests)
				}
				achieved += o.Achieved
				p99 += float64(o.Lateness.Quantile(99)) / float64(time.Microsecond)
				p50 += float64(o.Lateness.Quantile(50)) / float64(time.Microsecond)
			}
			b.ReportMetric(achieved/float64(b.N), "requests/s")
			b.ReportMetric(p50/float64(b.N), "sched-err-p50-µs")
			b.ReportMetric(p99/float64(b.N), "sched-err-p99-µs")
		})
	}
}
