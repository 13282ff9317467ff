package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/tune"
)

func newReportCmd() *cobra.Command {
	var out, format string
	var allowIncomplete bool
	cmd := &cobra.Command{
		Use:   "report RESULTS.json|TUNE.json|DIR",
		Short: "Regenerate report.html (or another format) from a results.json, or a tune's files from its tune.json",
		Long: `report renders a finished run again: by default the self-contained report.html
beside the results.json, which opens offline in any browser. --format picks
another results format (csv, parquet, benchfmt, markdown, …); -o - writes to stdout.

Given a tune's tune.json (or its folder, or the newest of results/NAME-tune/), report
makes the tune's files again from tune.json alone, byte for byte as tune
wrote them: tune-report.html, tune-points.csv and tune-points.parquet (one
row per point measured), winner-*.yaml and the Go session options. --format
html|csv|parquet or -o makes just that one file.`,
		Example: `  ortbench report results/quick/20261125T210000Z/results.json
  ortbench report results/quick -o /tmp/report.html
  ortbench report results/quick --format benchfmt -o - | benchstat -
  ortbench report results/quick --format markdown -o - >> "$GITHUB_STEP_SUMMARY"
  ortbench report results/tune-tiny-tune/20261126T012835Z/tune.json
  ortbench report results/tune-tiny-tune --format parquet`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if path, ok := tuneState(args[0]); ok {
				one := cmd.Flags().Changed("format") || out != ""
				return reportTune(cmd, path, format, out, one)
			}
			run, path, err := readResults(args[0])
			if err != nil {
				return err
			}
			if err := checkFolder(cmd, run, path, allowIncomplete); err != nil {
				return err
			}
			enc, err := formats().Lookup(format)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			var buf bytes.Buffer
			if err := enc.Encode(run, &buf); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(path), enc.File)
			}
			if err := checkReportOut(out, path); err != nil { // guard.go
				return err
			}
			if err := results.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write, - for stdout (default: beside the results.json)")
	cmd.Flags().StringVar(&format, "format", "html", "results format to render ("+strings.Join(formats().Names(), ", ")+")")
	cmd.Flags().BoolVar(&allowIncomplete, "allow-incomplete", false, "read a run that was cut short (its results.json says incomplete) instead of refusing it")
	return cmd
}

// checkFolder refuses a run that was cut short (its results.json still
// says incomplete: killed or crashed while running) unless allowed, and
// warns when files of its folder do not agree with its manifest.json
// (results.json is authoritative; see results/manifest.go).
func checkFolder(cmd *cobra.Command, run *results.Run, path string, allow bool) error {
	if run.Incomplete {
		msg := fmt.Sprintf("%s: incomplete run (%d cells): %s", path, len(run.Cells), run.IncompleteReason)
		if !allow {
			return fmt.Errorf("%s (--allow-incomplete reads it anyway)", msg)
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "ortbench: warning:", msg)
		return nil
	}
	if filepath.Base(path) != "results.json" {
		return nil
	}
	st, err := results.CheckFolder(filepath.Dir(path))
	if err != nil {
		return err
	}
	if len(st.Stale) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "ortbench: warning: %s: %s do not match %s (results.json is authoritative; the others may be from an earlier write)\n",
			filepath.Dir(path), strings.Join(st.Stale, ", "), results.ManifestFile)
	}
	return nil
}

// tuneState is the tune.json that arg names: the file itself, a folder
// with a tune.json and no results.json, or a folder of tunes' folders
// (results/<name>-tune/) and no runs, where the newest is taken.
func tuneState(arg string) (string, bool) {
	st, err := os.Stat(arg)
	switch {
	case err != nil:
		return "", false
	case !st.IsDir():
		return arg, filepath.Base(arg) == tune.StateFile
	}
	if _, err := os.Stat(filepath.Join(arg, "results.json")); err == nil {
		return "", false
	}
	path := filepath.Join(arg, tune.StateFile)
	if _, err := os.Stat(path); err == nil {
		return path, true
	}
	runs, _ := filepath.Glob(filepath.Join(arg, "*", "results.json"))
	tunes, _ := filepath.Glob(filepath.Join(arg, "*", tune.StateFile))
	if len(runs) > 0 || len(tunes) == 0 {
		return "", false
	}
	// Tune folders are UTC timestamps, so the newest sorts last.
	slices.Sort(tunes)
	return tunes[len(tunes)-1], true
}

// reportTune makes a finished tune's files again from its tune.json: all
// of them into its folder, or (one) the file of format, to out.
func reportTune(cmd *cobra.Command, path, format, out string, one bool) error {
	name, err := tune.FormatFile(format)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, path, err)
	}
	st, err := tune.ReadState(path)
	if err != nil {
		return err
	}
	files, err := tune.Outputs(strategies(), st)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if !one {
		for _, f := range files {
			p := filepath.Join(dir, f.Name)
			if err := results.WriteFileAtomic(p, f.Data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
		}
		return nil
	}
	i := slices.IndexFunc(files, func(f tune.File) bool { return f.Name == name })
	if i < 0 {
		return fmt.Errorf("%s: the tune has no %s", path, name)
	}
	if out == "-" {
		_, err := cmd.OutOrStdout().Write(files[i].Data)
		return err
	}
	if out == "" {
		out = filepath.Join(dir, name)
	}
	if err := checkReportOut(out, path); err != nil { // guard.go
		return err
	}
	if err := results.WriteFileAtomic(out, files[i].Data); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
	return nil
}
