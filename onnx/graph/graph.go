// Package graph reads an ONNX model file's protobuf in pure Go (no cgo, no
// ONNX Runtime): the producer, the opsets, the operators, the weights'
// shapes, the declared inputs and outputs, and from those an estimate of the
// work per row. Package onnx describes inputs and outputs with its
// TensorInfo, and `ortbench inspect` prints a Graph even where the runtime
// library cannot be loaded.
package graph

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ortbench/ortbench/internal/pbwire"
)

// Graph is what Read learns from a .onnx file without loading ONNX
// Runtime: the producer, the opsets, the operators, the weights' shapes, and
// from those an estimate of the work per row.
//
// Note: decoding with generated onnx.proto bindings was rejected: it would add
// a generated package of several thousand lines to read a dozen fields.
// Read hand-decodes those fields with protowire and skips the rest.
type Graph struct {
	Path            string         `json:"path"`
	IRVersion       int64          `json:"ir_version"`
	ProducerName    string         `json:"producer_name,omitempty"`
	ProducerVersion string         `json:"producer_version,omitempty"`
	Domain          string         `json:"domain,omitempty"`
	ModelVersion    int64          `json:"model_version,omitempty"`
	Opsets          []Opset        `json:"opsets"`
	Name            string         `json:"graph_name,omitempty"`
	Nodes           int            `json:"nodes"`
	OpCounts        map[string]int `json:"op_counts"` // op type → nodes; non-default domains prefix the op ("ai.onnx.ml.LinearClassifier")
	Inputs          []TensorInfo   `json:"inputs"`
	Outputs         []TensorInfo   `json:"outputs"`
	Initializers    []Initializer  `json:"initializers,omitempty"`
	Parameters      int64          `json:"parameters"` // elements over all initializers
	Trees           *Trees         `json:"trees,omitempty"`
	Flops           int64          `json:"flops_per_row"`
	FlopNotes       []string       `json:"flop_notes,omitempty"`
	// WeightBytes is the size of the weights (initializers, and the
	// coefficients linear models hold in attributes); InputBytesPerRow and
	// OutputBytesPerRow are one row of the inputs and outputs. All three
	// are 0 with BytesNote saying why when one is unknown (see BytesPerRow).
	WeightBytes       int64  `json:"weight_bytes"`
	InputBytesPerRow  int64  `json:"input_bytes_per_row"`
	OutputBytesPerRow int64  `json:"output_bytes_per_row"`
	BytesNote         string `json:"bytes_note,omitempty"`

	net *net // for Infer and FlopsPerCall (net.go)
}

// BytesPerRow estimates the bytes one row moves to and from memory when
// rows run batch at a time: its input and output rows, and the weights
// read once per batch (WeightBytes ÷ batch). Intermediate activations are
// taken to stay in cache, so it is a lower bound on the traffic (and the
// intensity FLOPs ÷ bytes an upper bound). ok is false when the graph's
// sizes are unknown (BytesNote) or batch < 1.
func (g *Graph) BytesPerRow(batch int) (bytes float64, ok bool) {
	if g.BytesNote != "" || batch < 1 || g.InputBytesPerRow+g.OutputBytesPerRow <= 0 {
		return 0, false
	}
	return float64(g.InputBytesPerRow+g.OutputBytesPerRow) + float64(g.WeightBytes)/float64(batch), true
}

// TensorInfo describes one model input or output, as the file declares it
// or as ONNX Runtime reports it (package onnx).
type TensorInfo struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`  // "tensor", "sequence", "map", …
	DType string  `json:"dtype"` // element type, for tensors
	Shape []int64 `json:"shape"` // -1 marks a dynamic dimension
	// DimNames are the symbolic names (dim_param) of Shape's dimensions,
	// "" where a dimension is fixed or unnamed; nil when none is named.
	DimNames []string `json:"dim_names,omitempty"`
}

func (t TensorInfo) String() string {
	return t.Name + ": " + t.TypeString()
}

// TypeString is the type without the name: "float32[N, 4]", "sequence".
func (t TensorInfo) TypeString() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		if d < 0 {
			dims[i] = "N"
		} else {
			dims[i] = fmt.Sprint(d)
		}
	}
	if t.Type != "tensor" {
		return t.Type
	}
	return fmt.Sprintf("%s[%s]", t.DType, strings.Join(dims, ", "))
}

// Opset is one imported operator set.
type Opset struct {
	Domain  string `json:"domain"` // "" is the default ONNX domain
	Version int64  `json:"version"`
}

// Initializer is a constant tensor of the graph (weights, biases).
type Initializer struct {
	Name  string  `json:"name"`
	DType string  `json:"dtype"`
	Shape []int64 `json:"shape"`
}

// Trees sums the tree ensembles of a graph (scikit-learn forests and
// gradient boosting exported as TreeEnsembleClassifier/Regressor). A row
// visits one root-to-leaf path per tree, so Nodes bounds its comparisons.
type Trees struct {
	Ensembles int   `json:"ensembles"`
	Trees     int   `json:"trees"`
	Nodes     int   `json:"nodes"`
	Leaves    int   `json:"leaves"`
	MaxDepth  int   `json:"max_depth,omitempty"`
	PerRow    int64 `json:"comparisons_per_row_max"` // sum over trees of the longest path
}

// FlopsPerRow estimates floating-point operations per input row: 2·K·N for
// each MatMul/Gemm whose weight is an initializer [K, N], 2·coefficients for
// linear models, and Conv where its output shape is known. It is an order of
// magnitude to compare models by, not a count; FlopNotes says what was left out.
func (g *Graph) FlopsPerRow() int64 { return g.Flops }

// Read parses a .onnx file's protobuf. It never panics on malformed
// input: every length is checked, and a broken file is an error naming it.
func Read(path string) (*Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable ONNX model: %w", path, err)
	}
	g.Path = path
	return g, nil
}

// Parse is Read on bytes already in memory.
func Parse(data []byte) (*Graph, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	g := &Graph{OpCounts: map[string]int{}}
	graph, err := g.parseModel(data)
	if err != nil {
		return nil, err
	}
	nodes, valueShapes, err := g.parseGraph(graph)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	inits := g.tally(nodes)
	g.estimate(nodes, inits, valueShapes)
	g.estimateBytes(nodes)
	if g.net, err = parseNet(graph, g.Opsets); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return g, nil
}

// parseModel reads the ModelProto's own fields into g and returns its
// GraphProto's bytes.
func (g *Graph) parseModel(data []byte) ([]byte, error) {
	var graph []byte
	err := pbwire.Fields(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			g.IRVersion = int64(x)
		case num == 2 && typ == protowire.BytesType:
			g.ProducerName = string(v)
		case num == 3 && typ == protowire.BytesType:
			g.ProducerVersion = string(v)
		case num == 4 && typ == protowire.BytesType:
			g.Domain = string(v)
		case num == 5 && typ == protowire.VarintType:
			g.ModelVersion = int64(x)
		case num == 7 && typ == protowire.BytesType:
			graph = v
		case num == 8 && typ == protowire.BytesType:
			o, err := parseOpset(v)
			if err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			g.Opsets = append(g.Opsets, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, errors.New("no graph in the model")
	}
	if g.IRVersion <= 0 {
		return nil, errors.New("no IR version in the model")
	}
	return graph, nil
}

// parseOpset reads one OperatorSetIdProto.
func parseOpset(v []byte) (Opset, error) {
	var o Opset
	err := pbwire.Fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			o.Domain = string(v)
		case num == 2 && typ == protowire.VarintType:
			o.Version = int64(x)
		}
		return nil
	})
	return o, err
}

// parseGraph reads the GraphProto: its nodes, name, initializers, inputs
// and outputs into g, and every value's declared shape.
func (g *Graph) parseGraph(graph []byte) ([]node, map[string][]int64, error) {
	var nodes []node
	valueShapes := map[string][]int64{}
	err := pbwire.Fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n, err := parseNode(v)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(nodes), err)
			}
			nodes = append(nodes, n)
		case 2:
			g.Name = string(v)
		case 5:
			t, err := parseTensor(v)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12, 13:
			ti, err := parseValueInfo(v)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			switch num {
			case 11:
				g.Inputs = append(g.Inputs, ti)
			case 12:
				g.Outputs = append(g.Outputs, ti)
			}
			valueShapes[ti.Name] = ti.Shape
		}
		return nil
	})
	return nodes, valueShapes, err
}

// tally counts the weights and the nodes by operator, and drops graph
// inputs that are initializers: they are weights, not inputs (IR < 4
// lists both). It returns the initializers by name.
func (g *Graph) tally(nodes []node) map[string]*Initializer {
	inits := map[string]*Initializer{}
	for i := range g.Initializers {
		in := &g.Initializers[i]
		inits[in.Name] = in
		g.Parameters += elements(in.Shape)
	}
	kept := g.Inputs[:0]
	for _, in := range g.Inputs {
		if inits[in.Name] == nil {
			kept = append(kept, in)
		}
	}
	g.Inputs = kept
	g.Nodes = len(nodes)
	for _, n := range nodes {
		key := n.op
		if n.domain != "" && n.domain != "ai.onnx" {
			key = n.domain + "." + n.op
		}
		g.OpCounts[key]++
	}
	return inits
}

// elemSize is the bytes of one element of a named type; 0 when unknown or
// of no fixed size (strings).
func elemSize(dtype string) int64 {
	switch dtype {
	case "uint8", "int8", "bool":
		return 1
	case "uint16", "int16", "float16", "bfloat16":
		return 2
	case "float32", "int32", "uint32":
		return 4
	case "float64", "int64", "uint64", "complex64":
		return 8
	case "complex128":
		return 16
	}
	return 0
}

// estimateBytes fills WeightBytes, InputBytesPerRow, OutputBytesPerRow, or
// BytesNote with the first size it could not tell.
func (g *Graph) estimateBytes(nodes []node) {
	var weights, in, out int64
	note := ""
	unknown := func(format string, args ...any) {
		if note == "" {
			note = "bytes unknown: " + fmt.Sprintf(format, args...)
		}
	}
	for _, t := range g.Initializers {
		size := elemSize(t.DType)
		n := elements(t.Shape)
		if size == 0 || (n == 0 && !slices.Contains(t.Shape, 0)) {
			unknown("weight %q is %s%v", t.Name, t.DType, t.Shape)
			continue
		}
		weights += size * n
	}
	for _, n := range nodes {
		switch n.op {
		case "LinearClassifier", "LinearRegressor":
			weights += 4 * int64(n.counts["coefficients"]+n.counts["intercepts"])
		case "TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble", "SVMClassifier", "SVMRegressor":
			unknown("%s holds its weights in attributes, not counted", n.op)
		}
	}
	row := func(ts []TensorInfo, what string) int64 {
		var sum int64
		for _, t := range ts {
			size := elemSize(t.DType)
			if t.Type != "tensor" || size == 0 || len(t.Shape) == 0 {
				unknown("%s %q is %s", what, t.Name, t.TypeString())
				continue
			}
			n := elements(t.Shape[1:])
			if n == 0 && !slices.Contains(t.Shape[1:], 0) {
				unknown("%s %q has shape %s: a dimension after the batch one is not fixed", what, t.Name, t.TypeString())
				continue
			}
			sum += size * n
		}
		return sum
	}
	in, out = row(g.Inputs, "input"), row(g.Outputs, "output")
	if note != "" {
		g.BytesNote = note
		return
	}
	g.WeightBytes, g.InputBytesPerRow, g.OutputBytesPerRow = weights, in, out
}

// node is the part of a NodeProto the estimate needs.
type node struct {
	op, domain string
	inputs     []string
	outputs    []string
	ints       map[string]int64   // attribute i
	intLists   map[string][]int64 // attribute ints
	counts     map[string]int     // number of elements of a repeated attribute
}

func parseNode(b []byte) (node, error) {
	n := node{ints: map[string]int64{}, intLists: map[string][]int64{}, counts: map[string]int{}}
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.inputs = append(n.inputs, string(v))
		case 2:
			n.outputs = append(n.outputs, string(v))
		case 4:
			n.op = string(v)
		case 7:
			n.domain = string(v)
		case 5:
			return parseAttribute(v, &n)
		}
		return nil
	})
	return n, err
}

// parseAttribute keeps an attribute's name with its int, its ints, and the
// length of whichever repeated field it holds.
func parseAttribute(b []byte, n *node) error {
	var name string
	var i int64
	var ints []int64
	count := 0
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			name = string(v)
		case num == 3 && typ == protowire.VarintType:
			i = int64(x)
		case num == 7 && typ == protowire.Fixed32Type: // floats, unpacked
			count++
		case num == 7 && typ == protowire.BytesType: // floats, packed
			count += len(v) / 4
		case num == 8:
			vs, err := varints(typ, v, x)
			if err != nil {
				return err
			}
			ints = append(ints, vs...)
			count += len(vs)
		case num == 9 && typ == protowire.BytesType: // strings
			count++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("attribute %q: %w", name, err)
	}
	n.ints[name] = i
	if ints != nil {
		n.intLists[name] = ints
	}
	n.counts[name] = count
	return nil
}

func parseTensor(b []byte) (Initializer, error) {
	var t Initializer
	var dtype int64
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1:
			vs, err := varints(typ, v, x)
			if err != nil {
				return err
			}
			t.Shape = append(t.Shape, vs...)
		case num == 2 && typ == protowire.VarintType:
			dtype = int64(x)
		case num == 8 && typ == protowire.BytesType:
			t.Name = string(v)
		}
		return nil
	})
	t.DType = elemTypeName(dtype)
	if t.Shape == nil {
		t.Shape = []int64{}
	}
	return t, err
}

func parseValueInfo(b []byte) (TensorInfo, error) {
	var ti TensorInfo
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			ti.Name = string(v)
		case 2: // TypeProto
			return pbwire.Fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if typ != protowire.BytesType {
					return nil
				}
				switch num {
				case 1:
					ti.Type = "tensor"
					return parseTensorType(v, &ti)
				case 4:
					ti.Type = "sequence"
				case 5:
					ti.Type = "map"
				case 8:
					ti.Type = "sparse tensor"
				case 9:
					ti.Type = "optional"
				}
				return nil
			})
		}
		return nil
	})
	return ti, err
}

// parseTensorType reads TypeProto.Tensor: elem_type and shape, where a
// symbolic or missing dimension becomes -1 as in TensorInfo and a symbolic
// one's dim_param goes to DimNames.
func parseTensorType(b []byte, ti *TensorInfo) error {
	return pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			ti.DType = elemTypeName(int64(x))
		case num == 2 && typ == protowire.BytesType:
			ti.Shape, ti.DimNames = []int64{}, nil
			return pbwire.Fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != 1 || typ != protowire.BytesType {
					return nil
				}
				d, name := int64(-1), ""
				err := pbwire.Fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						d = int64(x)
					case num == 2 && typ == protowire.BytesType:
						name = string(v)
					}
					return nil
				})
				if d >= 0 {
					name = "" // dim_value wins: the dimension is fixed
				}
				if name != "" && ti.DimNames == nil {
					ti.DimNames = make([]string, len(ti.Shape), len(ti.Shape)+1)
				}
				ti.Shape = append(ti.Shape, d)
				if ti.DimNames != nil {
					ti.DimNames = append(ti.DimNames, name)
				}
				return err
			})
		}
		return nil
	})
}

// varints reads a repeated int64 field, packed or not.
func varints(typ protowire.Type, v []byte, x uint64) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		return []int64{int64(x)}, nil
	case protowire.BytesType:
		var out []int64
		for len(v) > 0 {
			u, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return nil, fmt.Errorf("packed ints: %w", protowire.ParseError(n))
			}
			out = append(out, int64(u))
			v = v[n:]
		}
		return out, nil
	}
	return nil, fmt.Errorf("ints with wire type %d", typ)
}

// elemTypeName names TensorProto.DataType values as TensorInfo does.
func elemTypeName(t int64) string {
	names := []string{"undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
		"bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16"}
	if t >= 0 && t < int64(len(names)) {
		return names[t]
	}
	return fmt.Sprintf("type %d", t)
}

// elements is the product of a shape's dimensions (1 for a scalar), or 0
// when a dimension is unknown or the product would overflow.
func elements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return 0
		}
		n *= d
	}
	return n
}

// estimate fills Flops, FlopNotes and Trees from the nodes.
func (g *Graph) estimate(nodes []node, inits map[string]*Initializer, shapes map[string][]int64) {
	var flops int64
	add := func(v int64) {
		if v > 0 && flops <= math.MaxInt64-v {
			flops += v
		}
	}
	skipped := map[string]int{}
	var trees Trees
	for _, n := range nodes {
		switch n.op {
		case "MatMul", "Gemm":
			w := weight(n, 1, inits)
			if w == nil || len(w.Shape) != 2 {
				skipped[n.op]++
				continue
			}
			k, m := w.Shape[0], w.Shape[1]
			if n.op == "Gemm" && n.ints["transB"] != 0 {
				k, m = m, k
			}
			add(2 * k * m)
		case "LinearClassifier", "LinearRegressor":
			// coefficients holds classes × features weights.
			add(2 * int64(n.counts["coefficients"]))
			g.Parameters += int64(n.counts["coefficients"] + n.counts["intercepts"])
		case "Conv":
			w := weight(n, 1, inits)
			out := []int64(nil)
			if len(n.outputs) > 0 {
				out = shapes[n.outputs[0]]
			}
			if w == nil || len(w.Shape) < 3 || len(out) < 3 {
				skipped[n.op]++
				continue
			}
			// Per output element: 2 · (C/group) · kernel area; elements per row
			// are the output's dimensions after the batch one.
			perOut := 2 * elements(w.Shape[1:])
			outPerRow := elements(out[1:])
			if perOut == 0 || outPerRow == 0 {
				skipped[n.op]++
				continue
			}
			add(perOut * outPerRow)
		case "TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble":
			trees.Ensembles++
			addTrees(&trees, n)
		}
	}
	g.Flops = flops
	ops := make([]string, 0, len(skipped))
	for op := range skipped {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		g.FlopNotes = append(g.FlopNotes, fmt.Sprintf("%d %s node(s) not counted: weight or output shape unknown", skipped[op], op))
	}
	if trees.Ensembles > 0 {
		g.Trees = &trees
		g.FlopNotes = append(g.FlopNotes, "tree ensembles compare rather than multiply: see trees")
	}
	other := 0
	for op, c := range g.OpCounts {
		switch strings.TrimPrefix(op, "ai.onnx.ml.") {
		case "MatMul", "Gemm", "Conv", "LinearClassifier", "LinearRegressor", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble":
		default:
			other += c
		}
	}
	if other > 0 {
		g.FlopNotes = append(g.FlopNotes, fmt.Sprintf("%d element-wise and other node(s) not counted", other))
	}
}

// weight returns the initializer feeding input i of n, if it is one.
func weight(n node, i int, inits map[string]*Initializer) *Initializer {
	if i >= len(n.inputs) {
		return nil
	}
	return inits[n.inputs[i]]
}

// addTrees counts one ensemble's trees, nodes and leaves from its
// nodes_treeids / nodes_nodeids / nodes_modes attributes, and each tree's
// depth from the true/false child links.
func addTrees(t *Trees, n node) {
	nodeIDs := n.intLists["nodes_nodeids"]
	treeIDs := n.intLists["nodes_treeids"]
	t.Nodes += max(len(nodeIDs), n.counts["nodes_nodeids"], n.counts["nodes_featureids"])
	if len(treeIDs) != len(nodeIDs) || len(nodeIDs) == 0 {
		// TreeEnsemble (ai.onnx.ml 5) lists roots and leaves directly.
		t.Trees += n.counts["tree_roots"]
		t.Leaves += n.counts["leaf_targetids"]
		return
	}
	trues, falses := n.intLists["nodes_truenodeids"], n.intLists["nodes_falsenodeids"]
	type key struct{ tree, node int64 }
	children := map[key][2]int64{}
	isLeaf := map[key]bool{}
	roots := map[int64]bool{}
	for i := range nodeIDs {
		k := key{treeIDs[i], nodeIDs[i]}
		roots[treeIDs[i]] = true
		if i < len(trues) && i < len(falses) && (trues[i] != 0 || falses[i] != 0) {
			children[k] = [2]int64{trues[i], falses[i]}
		} else {
			isLeaf[k] = true
		}
	}
	t.Trees += len(roots)
	t.Leaves += len(isLeaf)
	// Depth by walking from node 0 of each tree, with a budget so a cyclic
	// (malformed) tree cannot loop.
	budget := 4 * len(nodeIDs)
	var depth func(k key, d int) int
	depth = func(k key, d int) int {
		budget--
		c, ok := children[k]
		if !ok || budget < 0 || d > 256 {
			return d
		}
		return max(depth(key{k.tree, c[0]}, d+1), depth(key{k.tree, c[1]}, d+1))
	}
	for tree := range roots {
		d := depth(key{tree, 0}, 0)
		t.MaxDepth = max(t.MaxDepth, d)
		t.PerRow += int64(d)
	}
}
