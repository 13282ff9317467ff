package graph

import (
	"math"
	"slices"
)

// The shape rules of the data-movement ops: constants and shape
// arithmetic (folded where the values are small constants, as exporters
// build reshape targets from Shape → Gather → Concat), reshapes, gathers,
// slices, resizes and reductions.

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, bool) {
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), axis >= 0 && axis < int64(rank)
}

// list is an ints attribute, else the constant ints of input i (the
// attribute moved to an input in later opsets); found says whether either was there.
func (in *inferer) list(n netNode, attr string, i int) (ints []int64, found bool) {
	if v, ok := n.lists[attr]; ok {
		return v, true
	}
	if has(n, i) {
		return in.get(n, i).ints, true
	}
	return nil, false
}

// intAttr is an int attribute or its default.
func intAttr(n netNode, name string, def int64) int64 {
	if v, ok := n.ints[name]; ok {
		return v
	}
	return def
}

func known(shape []int64) bool { return shape != nil && !slices.Contains(shape, -1) }

func (in *inferer) constant(n netNode) value {
	x := in.get(n, 0)
	switch n.op {
	case "Constant":
		if t, ok := n.tensors["value"]; ok {
			return t
		}
		if f, ok := n.floats["value_float"]; ok {
			return value{shape: []int64{}, floats: []float64{f}}
		}
		if i, ok := n.ints["value_int"]; ok {
			return value{shape: []int64{}, ints: []int64{i}}
		}
		if l, ok := n.lists["value_ints"]; ok {
			return value{shape: []int64{int64(len(l))}, ints: l}
		}
		if l, ok := n.floatLists["value_floats"]; ok {
			return value{shape: []int64{int64(len(l))}, floats: l}
		}
	case "ConstantOfShape":
		if x.ints == nil {
			return value{}
		}
		out := value{shape: slices.Clone(x.ints)}
		if fill := n.tensors["value"]; len(fill.ints) == 1 && known(clean(slices.Clone(x.ints))) {
			if c := elements(x.ints); c <= constLimit {
				out.ints = slices.Repeat(fill.ints, int(c))
			}
		}
		return out
	case "Shape":
		if x.shape == nil {
			return value{}
		}
		r := len(x.shape)
		start, end := intAttr(n, "start", 0), intAttr(n, "end", int64(r))
		s, e := clampRange(start, end, r)
		out := value{shape: []int64{int64(e - s)}}
		if known(x.shape[s:e]) {
			out.ints = slices.Clone(x.shape[s:e])
		}
		return out
	case "Size":
		out := value{shape: []int64{}}
		if known(x.shape) {
			out.ints = []int64{elements(x.shape)}
		}
		return out
	case "Range":
		return in.rangeOf(n)
	}
	return value{}
}

// rangeOf is Range(start, limit, delta): max(⌈(limit − start) ÷ delta⌉, 0)
// elements, as position ids are made.
func (in *inferer) rangeOf(n netNode) value {
	var f [3]float64
	for i := range f {
		v := in.get(n, i)
		switch {
		case len(v.ints) == 1:
			f[i] = float64(v.ints[0])
		case len(v.floats) == 1:
			f[i] = v.floats[0]
		default:
			return value{shape: []int64{-1}}
		}
	}
	count := math.Ceil((f[1] - f[0]) / f[2])
	if f[2] == 0 || math.IsNaN(count) || count > maxDim {
		return value{shape: []int64{-1}}
	}
	c := int64(max(count, 0))
	out := value{shape: []int64{c}}
	if ints := in.get(n, 0).ints; ints != nil && c <= constLimit {
		for i := int64(0); i < c; i++ {
			out.ints = append(out.ints, int64(f[0])+i*int64(f[2]))
		}
	}
	return out
}

// clampRange is Python's slice [start:end] bounds on a length.
func clampRange(start, end int64, length int) (int, int) {
	l := int64(length)
	if start < 0 {
		start += l
	}
	if end < 0 {
		end += l
	}
	start, end = min(max(start, 0), l), min(max(end, 0), l)
	return int(start), int(max(start, end))
}

func (in *inferer) reshape(n netNode) value {
	x := in.get(n, 0)
	switch n.op {
	case "Reshape":
		return in.reshapeTo(n, x)
	case "Flatten":
		if x.shape == nil {
			return value{}
		}
		axis := intAttr(n, "axis", 1)
		if axis < 0 {
			axis += int64(len(x.shape))
		}
		if axis < 0 || axis > int64(len(x.shape)) {
			return value{}
		}
		return value{shape: []int64{product(x.shape[:axis]), product(x.shape[axis:])}, ints: x.ints}
	case "Squeeze", "Unsqueeze":
		return in.squeeze(n, x)
	case "Transpose":
		perm := n.lists["perm"]
		if x.shape == nil {
			return value{}
		}
		if perm == nil {
			perm = make([]int64, len(x.shape))
			for i := range perm {
				perm[i] = int64(len(perm) - 1 - i)
			}
		}
		out := make([]int64, len(perm))
		for i, p := range perm {
			a, ok := normAxis(p, len(x.shape))
			if !ok || len(perm) != len(x.shape) {
				return value{}
			}
			out[i] = x.shape[a]
		}
		return value{shape: out}
	case "Expand":
		return value{shape: broadcast(x.shape, in.get(n, 1).ints)}
	case "Tile":
		reps := in.get(n, 1).ints
		if x.shape == nil || len(reps) != len(x.shape) {
			return value{}
		}
		out := slices.Clone(x.shape)
		for i, r := range reps {
			out[i] = product([]int64{out[i], r})
		}
		return value{shape: out}
	}
	return value{}
}

// product is elements() with -1 for unknown.
func product(shape []int64) int64 {
	if !known(shape) {
		return -1
	}
	n := elements(shape)
	if n == 0 && !zeroDim(shape) {
		return -1
	}
	return n
}

// reshapeTo applies a Reshape target: 0 copies the input's dimension
// (unless allowzero), -1 takes what is left.
func (in *inferer) reshapeTo(n netNode, x value) value {
	t := in.get(n, 1)
	target := t.ints
	if target == nil {
		target = n.lists["shape"] // Reshape-1
	}
	if target == nil {
		// Caffe2 exports reshape to a rank-2 target of unknown values
		// before the classifier: a flatten of all but the batch axis.
		if len(t.shape) == 1 && t.shape[0] == 2 && len(x.shape) >= 1 && x.shape[0] >= 0 {
			in.guesses++
			return value{shape: []int64{x.shape[0], product(x.shape[1:])}}
		}
		if len(t.shape) == 1 && t.shape[0] >= 0 && t.shape[0] <= 64 {
			return value{shape: slices.Repeat([]int64{-1}, int(t.shape[0]))}
		}
		return value{}
	}
	out := slices.Clone(target)
	free := -1
	for i, d := range out {
		switch {
		case d == 0 && intAttr(n, "allowzero", 0) == 0:
			if i >= len(x.shape) {
				return value{}
			}
			out[i] = x.shape[i]
		case d == -1 && free < 0:
			free = i
		case d < 0:
			return value{}
		}
	}
	if free >= 0 {
		out[free] = 1
		total, rest := product(x.shape), product(out)
		out[free] = -1
		if total >= 0 && rest > 0 {
			out[free] = total / rest
		}
	}
	return value{shape: out, ints: x.ints}
}

func (in *inferer) squeeze(n netNode, x value) value {
	if x.shape == nil {
		return value{}
	}
	axes, found := in.list(n, "axes", 1)
	if found && axes == nil {
		return value{} // axes from a value not known
	}
	if n.op == "Unsqueeze" {
		rank := len(x.shape) + len(axes)
		out := make([]int64, 0, rank)
		marks := make([]bool, rank)
		for _, a := range axes {
			i, ok := normAxis(a, rank)
			if !ok {
				return value{}
			}
			marks[i] = true
		}
		j := 0
		for i := range marks {
			if marks[i] {
				out = append(out, 1)
			} else if j < len(x.shape) {
				out = append(out, x.shape[j])
				j++
			}
		}
		return value{shape: out, ints: x.ints}
	}
	drop := make([]bool, len(x.shape))
	for _, a := range axes {
		i, ok := normAxis(a, len(x.shape))
		if !ok || x.shape[i] > 1 {
			return value{} // only a dimension of 1 can be squeezed
		}
		drop[i] = true
	}
	var out []int64
	for i, d := range x.shape {
		if len(axes) == 0 && d < 0 {
			return value{}
		}
		if !drop[i] && !(len(axes) == 0 && d == 1) {
			out = append(out, d)
		}
	}
	return value{shape: append([]int64{}, out...), ints: x.ints}
}

func (in *inferer) gatherLike(n netNode) []value {
	x := in.get(n, 0)
	switch n.op {
	case "Concat":
		return []value{in.concat(n)}
	case "Split":
		return in.split(n, x)
	case "Gather":
		return []value{in.gather(n, x)}
	case "Slice":
		return []value{in.slice(n, x)}
	case "Pad":
		pads, _ := in.list(n, "pads", 1)
		if x.shape == nil || len(pads) != 2*len(x.shape) || has(n, 3) {
			return nil
		}
		if _, ok := attrDims(netNode{lists: map[string][]int64{"pads": pads}}, "pads", len(pads), 0); !ok {
			return nil
		}
		out := slices.Clone(x.shape)
		for i := range out {
			if out[i] >= 0 {
				out[i] += pads[i] + pads[len(out)+i]
			}
		}
		return []value{{shape: clean(out)}}
	}
	return nil
}

func (in *inferer) concat(n netNode) value {
	first := in.get(n, 0)
	if first.shape == nil {
		return value{}
	}
	axis, ok := normAxis(intAttr(n, "axis", 0), len(first.shape))
	if !ok {
		return value{}
	}
	out := slices.Clone(first.shape)
	out[axis] = 0
	var ints []int64
	folding := true
	for i := range n.in {
		v := in.get(n, i)
		if len(v.shape) != len(out) {
			return value{}
		}
		if v.shape[axis] < 0 || out[axis] < 0 {
			out[axis] = -1
		} else {
			out[axis] += v.shape[axis]
		}
		folding = folding && v.ints != nil && len(ints)+len(v.ints) <= constLimit
		if folding {
			ints = append(ints, v.ints...)
		}
	}
	if folding && len(out) == 1 {
		return value{shape: clean(out), ints: ints}
	}
	return value{shape: clean(out)}
}

func (in *inferer) split(n netNode, x value) []value {
	if x.shape == nil {
		return nil
	}
	axis, ok := normAxis(intAttr(n, "axis", 0), len(x.shape))
	if !ok {
		return nil
	}
	sizes, found := in.list(n, "split", 1)
	if !found {
		parts := int64(len(n.out))
		if x.shape[axis] < 0 || parts == 0 {
			return nil
		}
		each := (x.shape[axis] + parts - 1) / parts // num_outputs: the last part may be smaller
		for i := int64(0); i < parts; i++ {
			sizes = append(sizes, min(each, x.shape[axis]-i*each))
		}
	}
	outs := make([]value, len(sizes))
	for i, s := range sizes {
		shape := slices.Clone(x.shape)
		shape[axis] = s
		outs[i] = value{shape: clean(shape)}
	}
	return outs
}

func (in *inferer) gather(n netNode, x value) value {
	idx := in.get(n, 1)
	if x.shape == nil || idx.shape == nil {
		return value{}
	}
	axis, ok := normAxis(intAttr(n, "axis", 0), len(x.shape))
	if !ok {
		return value{}
	}
	out := append(slices.Clone(x.shape[:axis]), idx.shape...)
	out = append(out, x.shape[axis+1:]...)
	v := value{shape: out}
	if len(x.shape) == 1 && x.ints != nil && idx.ints != nil && int64(len(x.ints)) == x.shape[0] {
		for _, i := range idx.ints {
			if i < 0 {
				i += int64(len(x.ints))
			}
			if i < 0 || i >= int64(len(x.ints)) {
				return value{shape: out}
			}
			v.ints = append(v.ints, x.ints[i])
		}
	}
	return v
}

func (in *inferer) slice(n netNode, x value) value {
	if x.shape == nil {
		return value{}
	}
	starts, _ := in.list(n, "starts", 1)
	ends, _ := in.list(n, "ends", 2)
	axes, axesGiven := in.list(n, "axes", 3)
	steps := in.get(n, 4).ints
	if starts == nil || ends == nil || len(starts) != len(ends) || (axesGiven && len(axes) != len(starts)) {
		return value{}
	}
	out := slices.Clone(x.shape)
	ints := x.ints
	for i := range starts {
		a := int64(i)
		if axesGiven {
			a = axes[i]
		}
		axis, ok := normAxis(a, len(out))
		step := int64(1)
		if i < len(steps) {
			step = steps[i]
		}
		if !ok || step == 0 {
			return value{}
		}
		if out[axis] < 0 {
			continue
		}
		count, first := sliceLen(starts[i], ends[i], step, out[axis])
		if len(out) == 1 && ints != nil && int64(len(ints)) == out[0] {
			var picked []int64
			for k := int64(0); k < count; k++ {
				picked = append(picked, ints[first+k*step])
			}
			ints = picked
		} else {
			ints = nil
		}
		out[axis] = count
	}
	return value{shape: out, ints: ints}
}

// sliceLen is how many elements start:end:step takes from a length,
// clamped as ONNX Slice does, and the first index.
func sliceLen(start, end, step, length int64) (count, first int64) {
	clampTo := func(v, lo, hi int64) int64 {
		if v < 0 {
			v += length
		}
		return min(max(v, lo), hi)
	}
	if step > 0 {
		s, e := clampTo(start, 0, length), clampTo(end, 0, length)
		if e <= s {
			return 0, 0
		}
		return (e - s + step - 1) / step, s
	}
	s, e := clampTo(start, -1, length-1), clampTo(end, -1, length-1)
	if s <= e {
		return 0, 0
	}
	return (s - e + (-step) - 1) / (-step), s
}

func (in *inferer) resize(n netNode) []value {
	x := in.get(n, 0)
	if x.shape == nil {
		return nil
	}
	r := len(x.shape)
	out := slices.Clone(x.shape)
	switch n.op {
	case "Resize", "Upsample":
		if sizes := in.get(n, 3).ints; n.op == "Resize" && len(sizes) == r {
			return []value{{shape: clean(slices.Clone(sizes))}}
		}
		scales := n.floatLists["scales"]
		if scales == nil {
			i := 2
			if n.op == "Upsample" || in.opset == 10 {
				i = 1
			}
			scales = in.get(n, i).floats
		}
		if len(scales) != r {
			return nil
		}
		for i, s := range scales {
			if v := math.Floor(float64(out[i]) * s); out[i] >= 0 && v >= 0 && v <= maxDim {
				out[i] = int64(v)
			} else {
				out[i] = -1
			}
		}
	case "DepthToSpace", "SpaceToDepth":
		b := n.ints["blocksize"]
		if r != 4 || b < 1 || b > 1<<10 {
			return nil
		}
		if n.op == "DepthToSpace" {
			out[1], out[2], out[3] = div(out[1], b*b), mul(out[2], b), mul(out[3], b)
		} else {
			out[1], out[2], out[3] = mul(out[1], b*b), div(out[2], b), div(out[3], b)
		}
	case "TopK", "ArgMax", "ArgMin":
		def := int64(0)
		if n.op == "TopK" {
			def = -1
		}
		axis, ok := normAxis(intAttr(n, "axis", def), r)
		if !ok {
			return nil
		}
		switch {
		case n.op != "TopK" && intAttr(n, "keepdims", 1) == 0:
			out = slices.Delete(out, axis, axis+1)
		case n.op != "TopK":
			out[axis] = 1
		case len(in.get(n, 1).ints) == 1:
			out[axis] = in.get(n, 1).ints[0]
		default:
			out[axis] = intAttr(n, "k", -1)
		}
	}
	return []value{{shape: clean(out)}, {shape: clean(slices.Clone(out))}}
}

func mul(d, b int64) int64 {
	if d < 0 {
		return -1
	}
	return d * b
}

func div(d, b int64) int64 {
	if d < 0 {
		return -1
	}
	return d / b
}

func (in *inferer) reduce(n netNode) value {
	x := in.get(n, 0)
	if x.shape == nil {
		return value{}
	}
	axes, found := in.list(n, "axes", 1)
	if found && axes == nil {
		return value{}
	}
	if len(axes) == 0 {
		if intAttr(n, "noop_with_empty_axes", 0) != 0 {
			return value{shape: slices.Clone(x.shape)}
		}
		for i := range x.shape {
			axes = append(axes, int64(i))
		}
	}
	drop := make([]bool, len(x.shape))
	for _, a := range axes {
		i, ok := normAxis(a, len(x.shape))
		if !ok {
			return value{}
		}
		drop[i] = true
	}
	keep := intAttr(n, "keepdims", 1) != 0
	out := []int64{}
	for i, d := range x.shape {
		switch {
		case !drop[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return value{shape: out}
}
