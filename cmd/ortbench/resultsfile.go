package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/ortbench/ortbench/runner/results"
)

// readResults reads a results.json given as the file itself, a run's
// directory (results/<experiment>/<timestamp>/), or an experiment's directory
// (results/<experiment>/), where the newest run is taken.
func readResults(arg string) (*results.Run, string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, "", err
	}
	path := arg
	if st.IsDir() {
		path = filepath.Join(arg, "results.json")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			// Run directories are UTC timestamps, so the newest sorts last.
			runs, _ := filepath.Glob(filepath.Join(arg, "*", "results.json"))
			if len(runs) == 0 {
				return nil, "", fmt.Errorf("%s: no results.json in this directory or its run directories", arg)
			}
			sort.Strings(runs)
			path = runs[len(runs)-1]
		}
	}
	run, err := results.ReadJSON(path)
	if err != nil {
		return nil, "", err
	}
	return run, path, nil
}

// outputFormat checks an -o/--output text|json value.
func outputFormat(v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("%w: --output must be text or json, not %q", errUsage, v)
	}
	return nil
}
