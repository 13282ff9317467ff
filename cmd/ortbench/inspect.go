package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner/results"
)

// inspection is inspect's JSON output.
type inspection struct {
	Model   string            `json:"model"`
	ORT     ortStatus         `json:"onnxruntime"`
	Inputs  []onnx.TensorInfo `json:"inputs"`
	Outputs []onnx.TensorInfo `json:"outputs"`
	Graph   *graph.Graph      `json:"graph"`
	// NeedsShape says which --shape flags a count per item still needs.
	NeedsShape []string `json:"needs_shape,omitempty"`
	PerItem    *perItem `json:"flops_per_item"`
}

type ortStatus struct {
	Loaded  bool   `json:"loaded"`
	Version string `json:"version,omitempty"`
	Library string `json:"library,omitempty"`
	Error   string `json:"error,omitempty"`
}

func newInspectCmd() *cobra.Command {
	var output, lib string
	var shapeFlags []string
	cmd := &cobra.Command{
		Use:   "inspect MODEL.onnx",
		Short: "Describe a model: inputs, outputs, opsets, operators, FLOPs per row and per item",
		Long: `inspect reads a model twice: through ONNX Runtime for its inputs and outputs as
the runtime sees them, and from the file itself for the producer, opsets,
operators by type, weights and an estimate of the work per row (FLOPs for
matrix products, comparisons for tree ensembles). Without the ONNX Runtime
library it still prints what the file says, and says so.

FLOPs/item infers every tensor's shape from the inputs' at batch 1 and
counts convolutions, matrix products (attention's too), recurrent ops and
the cheap element-wise work (docs/METRICS.md, "FLOPs"), with MACs beside
them. An input with a symbolic dimension after the batch one (a sequence
length) needs --shape NAME=DIMS, DIMS "batch" then positive integers.`,
		Example: `  ortbench inspect training/models/mlp_large_digits.onnx
  ortbench inspect training/models/rf_digits.onnx -o json
  ortbench inspect onnx/graph/testdata/light_resnet50.onnx
  ortbench inspect onnx/graph/testdata/tiny_bert.onnx --shape input_ids=batch,128`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			given, err := parseShapeFlags(shapeFlags)
			if err != nil {
				return &exitCodeError{code: exitInvalid, err: err}
			}
			path := args[0]
			g, err := graph.Read(path)
			if err != nil {
				return err
			}
			in := inspection{Model: path, Graph: g, Inputs: g.Inputs, Outputs: g.Outputs,
				NeedsShape: needsShape(g, given), PerItem: countPerItem(g, given)}
			if in.PerItem.Error != "" && len(given) > 0 {
				return &exitCodeError{code: exitInvalid, err: fmt.Errorf("%s: %s", path, in.PerItem.Error)}
			}
			if libPath, version, err := onnx.Init(lib); err != nil {
				in.ORT.Error = err.Error()
			} else {
				in.ORT = ortStatus{Loaded: true, Version: version, Library: libPath}
				m, err := onnx.Inspect(path)
				if err != nil {
					return err
				}
				in.Inputs, in.Outputs = m.Inputs, m.Outputs
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			return writeInspection(cmd.OutOrStdout(), &in)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path of libonnxruntime.so (default: $ORTBENCH_ORT_LIB, then .ort/)")
	cmd.Flags().StringArrayVar(&shapeFlags, "shape", nil, "an input's shape for FLOPs/item, NAME=DIMS (\"batch\" then integers: input_ids=batch,128); repeatable")
	return cmd
}

func writeInspection(w io.Writer, in *inspection) error {
	g := in.Graph
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("model:", in.Model)
	row("producer:", strings.TrimSpace(fmt.Sprintf("%s %s, IR version %d", g.ProducerName, g.ProducerVersion, g.IRVersion)))
	var opsets []string
	for _, o := range g.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.Version))
	}
	row("opsets:", strings.Join(opsets, ", "))
	src := "from ONNX Runtime " + in.ORT.Version
	if !in.ORT.Loaded {
		src = "from the file (ONNX Runtime not loaded: " + in.ORT.Error + ")"
	}
	row("", "inputs and outputs "+src)
	for i, t := range in.Inputs {
		row(label(i, "inputs:"), withDimNames(t))
	}
	for i, t := range in.Outputs {
		row(label(i, "outputs:"), withDimNames(t))
	}
	ops := make([]string, 0, len(g.OpCounts))
	for op, n := range g.OpCounts {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	row("nodes:", fmt.Sprintf("%d (%s)", g.Nodes, strings.Join(ops, ", ")))
	row("parameters:", fmt.Sprintf("%s in %d initializer(s)", count(g.Parameters), len(g.Initializers)))
	if in.PerItem == nil && len(in.NeedsShape) == 0 {
		// Without shape inference only the static per-row estimate is left.
		flops := count(g.FlopsPerRow())
		if len(g.FlopNotes) > 0 {
			flops += " (" + strings.Join(g.FlopNotes, "; ") + ")"
		}
		row("FLOPs/row:", flops)
	}
	for i, n := range in.NeedsShape {
		row(label(i, "needs:"), n)
	}
	switch p := in.PerItem; {
	case len(in.NeedsShape) > 0:
		row("FLOPs/item:", "unknown until the --shape above is given")
	case p != nil:
		row("FLOPs/item:", p.line())
	}
	if t := g.Trees; t != nil {
		row("trees:", fmt.Sprintf("%d tree(s) in %d ensemble(s), %d nodes, %d leaves, max depth %d, at most %d comparisons/row",
			t.Trees, t.Ensembles, t.Nodes, t.Leaves, t.MaxDepth, t.PerRow))
	}
	return tw.Flush()
}

// count prints small counts exactly and large ones with a k/M/G suffix.
func count(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	}
	return results.Num(float64(n))
}

func label(i int, s string) string {
	if i == 0 {
		return s
	}
	return ""
}
