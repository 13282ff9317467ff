package main

import (
	"io"

	"github.com/ortbench/ortbench/runner"
)

// newObserver picks the progress display.
func newObserver(w io.Writer, quiet bool) runner.Observer {
	if quiet {
		return runner.NopObserver{}
	}
	return runner.NopObserver{}
}
