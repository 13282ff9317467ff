package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/graph"
)

// parseShapeFlags reads repeated `--shape NAME=DIMS` values, DIMS a comma
// list of positive integers or "batch" (the swept axis, only first), into
// dimension tokens per input. "batch" stays a token: inspect counts at
// batch 1, run sweeps it.
func parseShapeFlags(flags []string) (map[string][]string, error) {
	shapes := map[string][]string{}
	for _, f := range flags {
		name, dims, ok := strings.Cut(f, "=")
		if !ok || name == "" || dims == "" {
			return nil, fmt.Errorf("--shape %q: want NAME=DIMS, e.g. input_ids=batch,128", f)
		}
		if _, dup := shapes[name]; dup {
			return nil, fmt.Errorf("--shape %q: input %q given twice", f, name)
		}
		tokens := strings.Split(dims, ",")
		for i, tok := range tokens {
			if tok == onnx.BatchToken && i == 0 {
				continue
			}
			if v, err := strconv.ParseInt(tok, 10, 64); err != nil || v < 1 {
				return nil, fmt.Errorf("--shape %q: dimension %d is %q, want a positive integer (or \"batch\", first only)", f, i, tok)
			}
		}
		shapes[name] = tokens
	}
	return shapes, nil
}

// atBatch turns dimension tokens into shapes with "batch" = batch.
func atBatch(shapes map[string][]string, batch int64) map[string][]int64 {
	out := make(map[string][]int64, len(shapes))
	for name, tokens := range shapes {
		dims := make([]int64, len(tokens))
		for i, tok := range tokens {
			dims[i] = batch
			if tok != onnx.BatchToken {
				dims[i], _ = strconv.ParseInt(tok, 10, 64) // checked by parseShapeFlags
			}
		}
		out[name] = dims
	}
	return out
}

// itemShapes completes the shapes for counting one item: an input not
// given gets its declared shape with a dynamic first axis at 1. items is
// what one call then carries: the model's fixed first axis when it fixes
// one (ResNet's [1, 3, 224, 224]), else 1.
func itemShapes(g *graph.Graph, given map[string][]string) (shapes map[string][]int64, items int) {
	shapes, items = atBatch(given, 1), 1
	for _, t := range g.Inputs {
		if _, ok := shapes[t.Name]; ok || t.Type != "tensor" || len(t.Shape) == 0 {
			continue
		}
		if t.Shape[0] > 1 && len(t.Shape) >= 2 {
			items = int(t.Shape[0])
		}
		if t.Shape[0] < 0 {
			dims := append([]int64{1}, t.Shape[1:]...)
			if !containsNeg(dims) {
				shapes[t.Name] = dims
			}
		}
	}
	return shapes, items
}

func containsNeg(dims []int64) bool {
	for _, d := range dims {
		if d < 0 {
			return true
		}
	}
	return false
}

// needsShape says which --shape flags a count per item still needs: every
// input dimension after the first that the file leaves symbolic, in the
// words `run --model` refuses it with (onnx.UnsetDim).
func needsShape(g *graph.Graph, given map[string][]string) []string {
	var needs []string
	for _, e := range (&onnx.Model{Path: g.Path, Inputs: g.Inputs}).UnsetDims() {
		if _, ok := given[e.Input]; !ok {
			msg := e.Say("--shape " + e.Input + "=" + strings.Join(e.Example, ","))
			needs = append(needs, strings.TrimPrefix(msg, g.Path+": ")) // the model line names the file
		}
	}
	return needs
}

// withDimNames writes a tensor as TensorInfo.String does, with its
// symbolic dimension names in place of "N" where it has them.
func withDimNames(t onnx.TensorInfo) string {
	if t.Type != "tensor" {
		return t.String()
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		switch {
		case d >= 0:
			dims[i] = fmt.Sprint(d)
		case i < len(t.DimNames) && t.DimNames[i] != "":
			dims[i] = t.DimNames[i]
		default:
			dims[i] = "N"
		}
	}
	return fmt.Sprintf("%s: %s[%s]", t.Name, t.DType, strings.Join(dims, ", "))
}

// perItem is inspect's FLOP count per item, or why there is none.
type perItem struct {
	Shapes map[string][]int64 `json:"shapes"`
	Items  int                `json:"items_per_call"`
	graph.Count
	Error string `json:"error,omitempty"`
}

func countPerItem(g *graph.Graph, given map[string][]string) *perItem {
	shapes, items := itemShapes(g, given)
	p := &perItem{Shapes: shapes, Items: items}
	c, err := g.FlopsPerItem(shapes, items)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Count = c
	return p
}

// line is the FLOPs/item row: "8.22 G = 2 × 4.09 G MACs + 39.3 M other".
func (p *perItem) line() string {
	if p.Error != "" {
		return "unknown: " + p.Error
	}
	s := fmt.Sprintf("%s = 2 × %s MACs + %s other", count(p.FLOPs), count(p.MACs), count(p.Other))
	if p.Items > 1 {
		s += fmt.Sprintf(", one call of %d items ÷ %d", p.Items, p.Items)
	}
	if len(p.Notes) > 0 {
		s += " (" + strings.Join(p.Notes, "; ") + ")"
	}
	return s
}
