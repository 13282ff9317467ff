//go:build unix

package serve

import (
	"time"

	"golang.org/x/sys/unix"
)

// nap sleeps about d before an arrival. Go's timers wake a process that is
// idle in the netpoller at millisecond granularity: a 100 µs time.Sleep
// takes about 1 ms on Linux, which the open loop would send late and
// count as the server's latency (measured: Poisson at 100k/s had a p99
// scheduling error of 0.97 ms). A wait under 2 ms therefore blocks in
// nanosleep, whose error is the kernel's timer slack (~50 µs), which the
// spin window after it covers; a longer one sleeps on a timer to within
// 1 ms first.
func nap(d time.Duration) {
	if d >= 2*time.Millisecond {
		time.Sleep(d - time.Millisecond)
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil) // EINTR: wake early; the caller's loop waits the rest
}
