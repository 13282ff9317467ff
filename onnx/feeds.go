package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxRank bounds the inputs and outputs ortbench binds (batch axis included).
const MaxRank = 8

// BatchToken marks the swept batch axis in a shapes entry (axis 0 only).
const BatchToken = "batch"

// maxItemBytes bounds one item of one input, so that a typo such as
// [batch, 100000000000] is refused here instead of overflowing a size.
const maxItemBytes = 1 << 32

// exampleDim stands in for an unset dimension in UnsetDim's suggestion.
const exampleDim = "128"

// UnsetDim is Feeds' error for an input dimension the model leaves symbolic
// (or unnamed) and the user did not set. Error says how to set it in a
// workload file; Say builds the same message around another way to set it
// (the CLI's --shape x=batch,128), so both read alike.
type UnsetDim struct {
	Path    string
	Input   string
	Axis    int
	Symbol  string   // the model's dim_param; "" when the dimension is unnamed
	Example []string // a shapes entry to suggest: batch, the fixed dims, 128 for unset ones
}

func (e *UnsetDim) Error() string {
	return e.Say("workload.shapes." + e.Input + ", e.g. [" + strings.Join(e.Example, ", ") + "]")
}

// Say is the message with how names the way to set the dimension.
func (e *UnsetDim) Say(how string) string {
	sym := ""
	if e.Symbol != "" {
		sym = fmt.Sprintf(" (%q)", e.Symbol)
	}
	return fmt.Sprintf("%s: input %q dimension %d%s is not fixed by the model: set %s", e.Path, e.Input, e.Axis, sym, how)
}

// Feeds resolves how every input of the model is fed. shapes[name] lists an
// input's dims as tokens, "batch" (the swept axis, axis 0 only) or a positive
// integer; an entry whose axis 0 is an integer has no batch axis (the whole
// shape is one item). An input without an entry keeps its declared shape: a
// dynamic axis 0 is the free batch axis, a fixed one at rank ≥ 2 is a batch
// fixed at that size, and a fully fixed rank-0/1 input has no batch axis.
// Every input must batch alike. Errors are one line naming the input.
func (m *Model) Feeds(shapes map[string][]string) ([]Feed, error) {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !slices.ContainsFunc(m.Inputs, func(t TensorInfo) bool { return t.Name == n }) {
			return nil, fmt.Errorf("%s: workload.shapes names input %q, the model has no such input (inputs: %s)", m.Path, n, m.inputNames())
		}
	}
	if len(m.Inputs) == 0 {
		return nil, fmt.Errorf("%s: model has no inputs to feed", m.Path)
	}
	feeds := make([]Feed, 0, len(m.Inputs))
	for _, in := range m.Inputs {
		toks, set := shapes[in.Name]
		f, err := m.feed(in, toks, set)
		if err != nil {
			return nil, err
		}
		feeds = append(feeds, f)
	}
	if err := agreeBatch(feeds); err != nil {
		return nil, fmt.Errorf("%s: %v", m.Path, err)
	}
	return feeds, nil
}

func (m *Model) inputNames() string {
	q := make([]string, len(m.Inputs))
	for i, in := range m.Inputs {
		q[i] = strconv.Quote(in.Name)
	}
	return strings.Join(q, ", ")
}

// feed resolves one input: its dtype, then its shape from toks when set,
// else from the declaration.
func (m *Model) feed(in TensorInfo, toks []string, set bool) (Feed, error) {
	f := Feed{Name: in.Name}
	if in.Type != "tensor" {
		return f, fmt.Errorf("%s: input %q is a %s, ortbench feeds tensors", m.Path, in.Name, in.Type)
	}
	d, ok := ParseDType(in.DType)
	if !ok {
		return f, fmt.Errorf("%s: input %q is %s, ortbench feeds float32, float16, float64, int64, int32, int8, uint8 and bool tensors", m.Path, in.Name, in.TypeString())
	}
	f.DType = d
	if len(in.Shape) > MaxRank {
		return f, fmt.Errorf("%s: input %q has shape %s: rank %d, ortbench feeds tensors up to rank %d", m.Path, in.Name, in.TypeString(), len(in.Shape), MaxRank)
	}
	if slices.Contains(in.Shape, 0) {
		return f, fmt.Errorf("%s: input %q has shape %s: a zero dimension leaves nothing to feed", m.Path, in.Name, in.TypeString())
	}
	var err error
	if set {
		f.Item, f.Batch, err = m.shapeFromTokens(in, toks)
	} else {
		f.Item, f.Batch, err = m.declaredShape(in)
	}
	if err == nil && f.ItemBytes() > maxItemBytes {
		err = fmt.Errorf("%s: input %q: one item of %v is %d bytes, over ortbench's %d", m.Path, in.Name, f.Item, f.ItemBytes(), int64(maxItemBytes))
	}
	return f, err
}

// shapeFromTokens reads a shapes entry against the declared shape.
func (m *Model) shapeFromTokens(in TensorInfo, toks []string) (item []int64, batch int, err error) {
	key := "workload.shapes." + in.Name
	if len(toks) != len(in.Shape) {
		return nil, 0, fmt.Errorf("%s: %s has %d dimensions, input %q has rank %d (%s)", m.Path, key, len(toks), in.Name, len(in.Shape), in.TypeString())
	}
	batch = -1
	dims := make([]int64, len(toks))
	for i, tok := range toks {
		tok = strings.TrimSpace(tok)
		declared := in.Shape[i]
		if tok == BatchToken {
			if i != 0 {
				return nil, 0, fmt.Errorf("%s: %s dimension %d is %q: only dimension 0 can be the batch axis", m.Path, key, i, tok)
			}
			batch = max(0, int(declared)) // a model that fixes axis 0 fixes the batch
			continue
		}
		v, perr := strconv.ParseInt(tok, 10, 64)
		switch {
		case perr != nil || v <= 0:
			return nil, 0, fmt.Errorf("%s: %s dimension %d is %q: want %q (dimension 0 only) or a positive integer", m.Path, key, i, tok, BatchToken)
		case v > maxItemBytes:
			return nil, 0, fmt.Errorf("%s: %s dimension %d is %d, over ortbench's %d", m.Path, key, i, v, int64(maxItemBytes))
		case declared >= 0 && v != declared:
			return nil, 0, fmt.Errorf("%s: %s dimension %d is %d but the model fixes it at %d (%s)", m.Path, key, i, v, declared, in.TypeString())
		}
		dims[i] = v
	}
	if batch >= 0 {
		return dims[1:], batch, nil
	}
	return dims, -1, nil
}

// declaredShape takes the model's own shape, refusing an unset symbolic
// dimension after the batch axis.
func (m *Model) declaredShape(in TensorInfo) (item []int64, batch int, err error) {
	sh := in.Shape
	switch {
	case len(sh) == 0:
		return []int64{}, -1, nil
	case len(sh) == 1 && sh[0] > 0:
		return []int64{sh[0]}, -1, nil
	}
	batch = max(0, int(sh[0]))
	for i, d := range sh[1:] {
		if d < 0 {
			return nil, 0, m.unsetDim(in, i+1)
		}
	}
	return append([]int64{}, sh[1:]...), batch, nil
}

// UnsetDims lists every input dimension after the batch axis that the model
// leaves symbolic, so `inspect` can say which shapes a run still needs
// before any is set; nil when Feeds(nil) needs none.
func (m *Model) UnsetDims() []*UnsetDim {
	var out []*UnsetDim
	for _, in := range m.Inputs {
		if in.Type != "tensor" {
			continue
		}
		for i := 1; i < len(in.Shape); i++ {
			if in.Shape[i] < 0 {
				out = append(out, m.unsetDim(in, i))
			}
		}
	}
	return out
}

func (m *Model) unsetDim(in TensorInfo, axis int) *UnsetDim {
	e := &UnsetDim{Path: m.Path, Input: in.Name, Axis: axis}
	if axis < len(in.DimNames) {
		e.Symbol = in.DimNames[axis]
	}
	for i, d := range in.Shape {
		switch {
		case i == 0:
			e.Example = append(e.Example, BatchToken)
		case d > 0:
			e.Example = append(e.Example, strconv.FormatInt(d, 10))
		default:
			e.Example = append(e.Example, exampleDim)
		}
	}
	return e
}

// agreeBatch refuses inputs that batch differently: one call feeds every
// input the same items.
func agreeBatch(feeds []Feed) error {
	for _, f := range feeds[1:] {
		if f.Batch != feeds[0].Batch {
			return fmt.Errorf("inputs batch differently: input %q has %s, input %q has %s (ortbench feeds every input the same items per call)",
				feeds[0].Name, batchWords(feeds[0].Batch), f.Name, batchWords(f.Batch))
		}
	}
	return nil
}

func batchWords(b int) string {
	switch {
	case b == 0:
		return "a free batch axis"
	case b > 0:
		return fmt.Sprintf("its batch axis fixed at %d by the model", b)
	}
	return "no batch axis"
}

// ItemsPerCall is how many items one call takes: 0 when the batch axis is
// free (batch_sizes sweep it), N when the model fixes it, 1 without one.
func ItemsPerCall(feeds []Feed) int {
	if len(feeds) == 0 {
		return 0
	}
	if b := feeds[0].Batch; b != 0 {
		return max(b, 1)
	}
	return 0
}

// TabularFeeds is the feed of a tabular model that Check(width) accepted:
// one float32 input [batch, width], a row per item.
func (m *Model) TabularFeeds(width int) []Feed {
	return []Feed{{Name: m.Inputs[0].Name, DType: DFloat32, Item: []int64{int64(width)}}}
}
