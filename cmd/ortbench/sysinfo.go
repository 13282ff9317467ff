package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

func newSysinfoCmd() *cobra.Command {
	var output, lib string
	cmd := &cobra.Command{
		Use:   "sysinfo",
		Short: "Print the environment block every result records",
		Long: `sysinfo prints what a run would record about this machine: CPU, cores, caches,
memory, OS, Go and ONNX Runtime versions, GOMAXPROCS and the project's commit.
ONNX Runtime is loaded to learn its version; when it cannot be, the rest is
still printed and the reason is given.`,
		Example: `  ortbench sysinfo
  ortbench sysinfo -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			_, _, ortErr := onnx.Init(lib)
			env := sysinfo.Collect(cmd.Context())
			w := cmd.OutOrStdout()
			if output == "json" {
				v := struct {
					results.Environment
					OnnxruntimeError string `json:"onnxruntime_error,omitempty"`
				}{Environment: env}
				if ortErr != nil {
					v.OnnxruntimeError = ortErr.Error()
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			ort := env.OnnxruntimeVersion
			if ort == "" {
				ort = fmt.Sprintf("not loaded (%v)", ortErr)
			} else if env.OnnxruntimeLibrary != "" {
				ort += " (" + env.OnnxruntimeLibrary + ")"
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"cpu", env.CPUModel},
				{"cores", fmt.Sprintf("%d physical, %d logical", env.PhysicalCores, env.LogicalCores)},
				{"caches", env.Caches},
				{"memory", results.Bytes(env.MemoryBytes)},
				{"os", env.OS + " " + env.Arch},
				{"kernel", env.Kernel},
				{"go", env.GoVersion},
				{"gomaxprocs", fmt.Sprint(env.GOMAXPROCS)},
				{"onnxruntime", ort},
				{"git commit", env.GitCommit},
				{"hostname", env.Hostname},
			} {
				if kv[1] != "" {
					fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path of libonnxruntime.so (default: $ORTBENCH_ORT_LIB, then .ort/)")
	return cmd
}
