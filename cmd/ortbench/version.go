package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

func newVersionCmd() *cobra.Command {
	var lib string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ortbench's version and commit, Go's, and the ONNX Runtime library it loads",
		Long: `Print ortbench's version (the module version, or "devel") and the commit it
was built from (from the binary's build information; "unknown" when the build
recorded none), the Go version, and the ONNX Runtime library ortbench finds and
loads — its version and path, or on that line why it could not be loaded.`,
		Example: `  ortbench version
  ortbench version --ort-lib /opt/onnxruntime/lib/libonnxruntime.so.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), versionText(lib))
			return err
		},
	}
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path of libonnxruntime.so to load (default: $ORTBENCH_ORT_LIB, then .ort/ near the working directory or the binary)")
	return cmd
}

// versionText is what `ortbench version` and `ortbench --version` print.
// A library that cannot be loaded is reported, not an error: the rest is
// still worth knowing.
func versionText(lib string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ortbench %s\n", sysinfo.Version())
	fmt.Fprintf(&b, "commit: %s\n", sysinfo.GitCommit())
	fmt.Fprintf(&b, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if path, version, err := onnx.Init(lib); err != nil {
		fmt.Fprintf(&b, "onnxruntime: not loaded: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Fprintf(&b, "onnxruntime: %s %s\n", version, path)
	}
	return b.String()
}

var registerVersionFunc sync.Once

// versionTemplate is the root command's --version template: the same text
// as `ortbench version`, made when the flag is used (not when the command
// tree is built, which would load the library for every command).
func versionTemplate() string {
	registerVersionFunc.Do(func() {
		cobra.AddTemplateFunc("ortbenchVersion", func() string { return versionText("") })
	})
	return "{{ortbenchVersion}}"
}
