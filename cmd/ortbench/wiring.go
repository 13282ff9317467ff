package main

import (
	"github.com/ortbench/ortbench/runner/report"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// The registries ortbench runs with, built here in main and passed in:
// nothing registers itself globally, so what a config may name never
// depends on the order things were called in.

// strategies is every strategy a config can name.
func strategies() strategy.Registry { return strategy.Default() }

// formats is every output format a run writes: the results package's own
// and the HTML report.
func formats() results.Formats {
	f := results.BaseFormats()
	f["html"] = report.Format()
	return f
}
