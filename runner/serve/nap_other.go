//go:build !unix

package serve

import "time"

// nap sleeps about d before an arrival (see nap_unix.go).
func nap(d time.Duration) { time.Sleep(d) }
