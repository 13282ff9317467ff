package main

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/results"
)

func newReportCmd() *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "report RESULTS.json|DIR",
		Short: "Regenerate report.html (or another format) from a results.json",
		Long: `report renders a finished run again: by default the self-contained report.html
beside the results.json, which opens offline in any browser. --format picks
another results format (csv, parquet, benchfmt, …); -o - writes to stdout.`,
		Example: `  ortbench report results/quick/20261125T210000Z/results.json
  ortbench report results/quick -o /tmp/report.html
  ortbench report results/quick --format benchfmt -o - | benchstat -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, path, err := readResults(args[0])
			if err != nil {
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
			if err := results.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write, - for stdout (default: beside the results.json)")
	cmd.Flags().StringVar(&format, "format", "html", "results format to render (html, csv, parquet, benchfmt, json)")
	return cmd
}
