package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/ceiling"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
)

// No command writes over an input it was given or a results folder it did
// not create: these checks run before anything is written.

// sameFile reports whether a and b name one file (through links too).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// checkReportOut refuses a report output that is the results.json read,
// or the manifest or results.json of its folder: those are the run itself.
func checkReportOut(out, input string) error {
	for _, f := range []string{input, filepath.Join(filepath.Dir(input), "results.json"), filepath.Join(filepath.Dir(input), results.ManifestFile)} {
		if sameFile(out, f) || filepath.Clean(out) == filepath.Clean(f) {
			return fmt.Errorf("%w: -o %s would overwrite %s, the run being read: write the report elsewhere", errUsage, out, f)
		}
	}
	return nil
}

// checkMergeOut refuses a merge folder that is one of the shard folders
// (or inside or above one), or that already holds a run merge did not
// write (a shard, a run of its own). inputs are merge's arguments: shard
// folders or results.json files.
func checkMergeOut(out string, inputs []string) error {
	var dirs []string
	for _, in := range inputs {
		if st, err := os.Stat(in); err == nil && !st.IsDir() {
			in = filepath.Dir(in)
		}
		dirs = append(dirs, in)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	real := resolved(abs)
	for _, d := range dirs {
		ad, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		rd := resolved(ad)
		if within(real, rd) || within(rd, real) {
			return fmt.Errorf("%w: --out %s is the shard folder %s or holds it: the merged run needs a folder of its own", errUsage, out, d)
		}
	}
	path := filepath.Join(out, "results.json")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	run, err := results.ReadJSON(path)
	if err != nil || run.Shard != nil || !strings.HasSuffix(run.RunID, "-merged") {
		return fmt.Errorf("%w: --out %s already holds a run that merge did not write (%s): choose a new folder", errUsage, out, path)
	}
	return nil
}

// resolved is path with its links followed, as far as it exists.
func resolved(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	dir, base := filepath.Split(path)
	if dir == path || dir == "" {
		return path
	}
	return filepath.Join(resolved(filepath.Clean(dir)), base)
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Ranges of ceiling's flags: a count of cores to measure on, up to the
// config's oversubscription ceiling (a ceiling past the cores measures the
// scheduler), and a time per count within min_duration's range.
const (
	ceilingMinDuration = 10 * time.Millisecond
	ceilingMaxDuration = time.Hour
)

// ceilingFlags applies --threads and --duration to s when given, refusing
// values outside their ranges instead of falling back to the defaults.
func ceilingFlags(cmd *cobra.Command, s *ceiling.Settings, threads int, duration time.Duration, cores int) error {
	if cmd.Flags().Changed("threads") {
		most := min(max(cores, 1)*config.DefaultOversubscribe, config.MaxThreads)
		if threads < 1 || threads > most {
			return fmt.Errorf("%w: --threads %d is out of range (1 to %d: %d logical cores × %d)", errUsage, threads, most, cores, config.DefaultOversubscribe)
		}
		s.MaxThreads = threads
	}
	if cmd.Flags().Changed("duration") {
		if duration < ceilingMinDuration || duration > ceilingMaxDuration {
			return fmt.Errorf("%w: --duration %s is out of range (%s to %s)", errUsage, duration, ceilingMinDuration, ceilingMaxDuration)
		}
		s.Duration = duration
	}
	return nil
}
