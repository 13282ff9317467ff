package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
)

func newProvidersCmd() *cobra.Command {
	var lib string
	var plugins []string
	cmd := &cobra.Command{
		Use:   "providers",
		Short: "List the execution providers and devices the ONNX Runtime library and its plugins offer",
		Long: `providers loads the ONNX Runtime library, registers each plugin library it
knows (OpenVINO's, where ` + "`make openvino`" + ` put it) and each given with
--plugin EP=PATH, and prints every provider a strategy's provider: key can name
with whether it can be used here (or the one line why not), then the
devices ONNX Runtime lists (GetEpDevices).`,
		Example: `  ortbench providers
  make openvino && ortbench providers
  ortbench providers --plugin OpenVINOExecutionProvider=$PWD/.ort/openvino-1.8.1/onnxruntime_ep_openvino/libonnxruntime_providers_openvino_plugin.so`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := map[string]string{}
			for _, p := range plugins {
				ep, path, ok := strings.Cut(p, "=")
				if !ok || ep == "" || path == "" {
					return &exitCodeError{code: exitInvalid, err: fmt.Errorf("--plugin %q: want EP=PATH (an execution provider's name or word, and its plugin library)", p)}
				}
				given[ep] = path
			}
			path, version, err := onnx.Init(lib)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "onnxruntime %s (%s)\n\n", version, path)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "provider\texecution provider\tplugin\tstatus")
			for _, s := range onnx.ProviderReport(given) {
				status := "available"
				if s.Err != nil {
					status = "unavailable: " + s.Err.Error()
				}
				plugin := s.Library
				if plugin == "" {
					plugin = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Word, s.EP, plugin, status)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			devs, err := onnx.Devices()
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "\ndevices (GetEpDevices)")
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "execution provider\tvendor\tplugin")
			for _, d := range devs {
				plugin := d.Library
				if plugin == "" {
					plugin = "built in"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.EP, d.Vendor, plugin)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path to libonnxruntime.so (default: $"+onnx.LibraryEnv+", then where `make ort` puts it)")
	cmd.Flags().StringArrayVar(&plugins, "plugin", nil, "EP=PATH: a plugin execution-provider library to register (repeatable)")
	return cmd
}
