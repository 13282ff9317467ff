// Package spawn starts child processes from one OS thread that lives as
// long as ortbench.
//
// Linux's parent-death signal (Pdeathsig), which the runner gives its
// worker processes so none outlives it, fires when the *thread* that
// forked the child exits, not the process. The Go runtime ends a thread
// when a goroutine exits while locked to it — which ortbench's pinned
// workers do on purpose (their thread's CPU affinity is changed) — so a
// worker forked from a thread that a pinned goroutine later takes and
// retires would be SIGKILLed mid-run (golang/go#27505). Every fork
// therefore happens on a thread locked to a goroutine that never exits.
package spawn

import (
	"os/exec"
	"runtime"
	"sync"
)

var (
	once  sync.Once
	forks chan func()
)

// Start starts cmd (cmd.Start) on the lasting thread.
func Start(cmd *exec.Cmd) error {
	once.Do(func() {
		forks = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lasts as long as the process
			for f := range forks {
				f()
			}
		}()
	})
	done := make(chan error, 1)
	forks <- func() { done <- cmd.Start() }
	return <-done
}
