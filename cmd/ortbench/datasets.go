package main

import (
	"fmt"
	"github.com/ortbench/ortbench/onnx"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/datasets"
)

// newDatasetsCmd groups dataset tools.
func newDatasetsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "datasets",
		Short:   "Dataset tools (synthetic data for the large benchmarks)",
		Example: "  ortbench datasets synth --rows 1000000 --like training/models/mlp_small_digits.onnx --classes 10 --seed 1 --out datasets/synth/digits_like_1m.parquet",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newSynthCmd())
	return cmd
}

func newSynthCmd() *cobra.Command {
	var spec datasets.SynthSpec
	var out, like string
	cmd := &cobra.Command{
		Use:   "synth --rows N [--features F | --like MODEL.onnx] --classes K --seed S --out FILE",
		Short: "Write a deterministic synthetic classification dataset as Parquet",
		Long: `Write a deterministic synthetic classification dataset as Parquet (zstd):
columns f0..f{F-1} (float32) — or, with --like, the feature names and count of
a model's input, since ortbench feeds columns to a model by name — and label
(int64); each row is its class centroid
plus unit gaussian noise. The same flags always give the same values. It is
written one bounded row group at a time (memory stays bounded whatever --rows
is) into a temporary file that is renamed into place when complete.`,
		Example: "  ortbench datasets synth --rows 4000000 --like training/models/mlp_small_digits.onnx --classes 10 --seed 1 --out datasets/synth/digits_like_4m.parquet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("%w: --out is required", errUsage)
			}
			if like != "" {
				if _, _, err := onnx.Init(""); err != nil {
					return err
				}
				m, err := onnx.Inspect(like)
				if err != nil {
					return err
				}
				if len(m.FeatureNames) == 0 {
					return fmt.Errorf("%w: --like %s: the model stores no feature names (%s)", errUsage, like, onnx.FeatureNamesKey)
				}
				spec.Names, spec.Features = m.FeatureNames, len(m.FeatureNames)
			}
			if err := spec.Validate(); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			if dir := filepath.Dir(out); dir != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			t0 := time.Now()
			if err := datasets.WriteSynth(cmd.Context(), spec, out); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d rows × %d features, %d classes, seed %d (%.1f MB, %.1fs)\n",
				out, spec.Rows, spec.Features, spec.Classes, spec.Seed, float64(st.Size())/1e6, time.Since(t0).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.Int64Var(&spec.Rows, "rows", 0, "number of rows (required)")
	f.IntVar(&spec.Features, "features", 64, "number of float32 feature columns")
	f.IntVar(&spec.Classes, "classes", 10, "number of classes")
	f.Uint64Var(&spec.Seed, "seed", 1, "random seed")
	f.StringVar(&out, "out", "", "output .parquet file (required)")
	f.StringVar(&like, "like", "", "name and count the feature columns as this model's input (its "+onnx.FeatureNamesKey+" metadata)")
	return cmd
}
