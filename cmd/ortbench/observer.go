package main

import (
	"io"
	"os"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/progress"
)

// newObserver picks the progress display: a redrawn bar on a terminal, plain
// lines otherwise (CI, pipes, tests), nothing with -q.
func newObserver(w io.Writer, quiet bool) runner.Observer {
	if quiet {
		return runner.NopObserver{}
	}
	if f, ok := w.(*os.File); ok {
		return progress.New(f, false)
	}
	return progress.NewWriter(w, false)
}
