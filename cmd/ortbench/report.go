package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/results"
)

func newReportCmd() *cobra.Command {
	var out, format string
	var allowIncomplete bool
	cmd := &cobra.Command{
		Use:   "report RESULTS.json|DIR",
		Short: "Regenerate report.html (or another format) from a results.json",
		Long: `report renders a finished run again: by default the self-contained report.html
beside the results.json, which opens offline in any browser. --format picks
another results format (csv, parquet, benchfmt, markdown, …); -o - writes to stdout.`,
		Example: `  ortbench report results/quick/20261125T210000Z/results.json
  ortbench report results/quick -o /tmp/report.html
  ortbench report results/quick --format benchfmt -o - | benchstat -
  ortbench report results/quick --format markdown -o - >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
