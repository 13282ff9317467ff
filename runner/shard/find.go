package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// FindResults returns the results.json a shard folder holds, so that merge
// can be given the folders a job array wrote (`merge results/shards/*`):
// dir/results.json itself, or else the newest dir/<experiment>/<UTC
// timestamp>/results.json (the layout `run --out dir` writes; a shard run
// again leaves a newer timestamp, and the newest wins). Results of two
// different experiments under dir are an error.
func FindResults(dir string) (string, error) {
	direct := filepath.Join(dir, "results.json")
	if _, err := os.Stat(direct); err == nil {
		return direct, nil
	}
	if fi, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("shard folder %s: %w", dir, err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("shard folder %s: not a directory", dir)
	}
	found, err := filepath.Glob(filepath.Join(dir, "*", "*", "results.json"))
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", fmt.Errorf("shard folder %s: no results.json in it or in %s", dir, filepath.Join(dir, "<experiment>", "<timestamp>"))
	}
	sort.Strings(found)
	exp := filepath.Dir(filepath.Dir(found[0]))
	for _, f := range found[1:] {
		if e := filepath.Dir(filepath.Dir(f)); e != exp {
			return "", fmt.Errorf("shard folder %s: results of two experiments (%s and %s): name one folder", dir, filepath.Base(exp), filepath.Base(e))
		}
	}
	return found[len(found)-1], nil
}
