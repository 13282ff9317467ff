package graph

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ortbench/ortbench/internal/pbwire"
)

// net is what shape inference (Infer) walks, read at Parse beside the
// summary: every node with the attributes shape rules need, the shapes of
// all initializers and the values of small ones (reshape targets, slice
// bounds, scales) and the declared shapes. Weight data is never kept, so
// a cached Graph stays small.
type net struct {
	nodes    []netNode
	consts   map[string]value   // initializers: shape, and data when small
	declared map[string][]int64 // value_info shapes: inputs, outputs, intermediates
	opset    int64              // default-domain opset version
}

// netNode is one NodeProto with its attributes by kind.
type netNode struct {
	op, domain string
	in, out    []string
	ints       map[string]int64
	lists      map[string][]int64
	floats     map[string]float64
	floatLists map[string][]float64
	strs       map[string]string
	tensors    map[string]value
	floatCount map[string]int // elements of a floats attribute (floatLists keeps at most constLimit)
}

// value is what Infer knows of one tensor: its shape (nil when unknown,
// -1 for an unknown dimension) and, for small constants, its elements as
// ints (integer tensors, for reshape targets and indices) or floats.
type value struct {
	shape  []int64
	ints   []int64
	floats []float64
}

// constLimit bounds the elements of a constant whose data is kept: shape
// arithmetic needs a handful, and a hostile file cannot make Infer allocate.
const constLimit = 4096

// parseNet reads the GraphProto again for Infer.
func parseNet(graph []byte, opsets []Opset) (*net, error) {
	nt := &net{consts: map[string]value{}, declared: map[string][]int64{}}
	for _, o := range opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			nt.opset = o.Version
		}
	}
	err := pbwire.Fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n, err := parseNetNode(v)
			if err != nil {
				return err
			}
			nt.nodes = append(nt.nodes, n)
		case 5:
			name, t, err := parseConst(v)
			if err != nil {
				return err
			}
			nt.consts[name] = t
		case 11, 12, 13:
			name, shape, err := parseDims(v)
			if err != nil {
				return err
			}
			if shape != nil {
				nt.declared[name] = shape
			}
		}
		return nil
	})
	return nt, err
}

func parseNetNode(b []byte) (netNode, error) {
	n := netNode{ints: map[string]int64{}, lists: map[string][]int64{}, floats: map[string]float64{},
		floatLists: map[string][]float64{}, strs: map[string]string{}, tensors: map[string]value{}, floatCount: map[string]int{}}
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.in = append(n.in, string(v))
		case 2:
			n.out = append(n.out, string(v))
		case 4:
			n.op = string(v)
		case 7:
			n.domain = string(v)
		case 5:
			return parseNetAttr(v, &n)
		}
		return nil
	})
	return n, err
}

// parseNetAttr files one AttributeProto under its kind: f, i, s, t,
// floats, ints (fields 2, 3, 4, 5, 7, 8).
func parseNetAttr(b []byte, n *netNode) error {
	var name string
	var kinds [9]bool
	var f float64
	var i int64
	var s string
	var t value
	var fl []float64
	var il []int64
	floats := 0
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			name = string(v)
		case num == 2 && typ == protowire.Fixed32Type:
			f, kinds[2] = float64(math.Float32frombits(uint32(x))), true
		case num == 3 && typ == protowire.VarintType:
			i, kinds[3] = int64(x), true
		case num == 4 && typ == protowire.BytesType:
			s, kinds[4] = string(v), true
		case num == 5 && typ == protowire.BytesType:
			_, c, err := parseConst(v)
			t, kinds[5] = c, true
			return err
		case num == 7:
			fs, err := float32s(typ, v, x)
			fl, kinds[7] = append(fl, fs...), true
			floats += max(len(v)/4, len(fs))
			return err
		case num == 8:
			vs, err := varints(typ, v, x)
			il, kinds[8] = append(il, vs...), true
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("attribute %q: %w", name, err)
	}
	switch {
	case kinds[2]:
		n.floats[name] = f
	case kinds[3]:
		n.ints[name] = i
	case kinds[4]:
		n.strs[name] = s
	case kinds[5]:
		n.tensors[name] = t
	case kinds[7]:
		n.floatLists[name], n.floatCount[name] = fl, floats
	case kinds[8]:
		n.lists[name] = il
	}
	return nil
}

// parseConst reads a TensorProto's name, shape and, when it has at most
// constLimit elements stored in the file, its data.
func parseConst(b []byte) (string, value, error) {
	var name string
	var t value
	var dtype int64
	var raw []byte
	var ints []int64
	var floats []float64
	t.shape = []int64{}
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch {
		case num == 1:
			var vs []int64
			vs, err = varints(typ, v, x)
			t.shape = append(t.shape, vs...)
		case num == 2 && typ == protowire.VarintType:
			dtype = int64(x)
		case num == 8 && typ == protowire.BytesType:
			name = string(v)
		case num == 9 && typ == protowire.BytesType:
			raw = v
		case (num == 5 || num == 7 || num == 11) && len(ints) <= constLimit: // int32, int64, uint64 data
			var vs []int64
			vs, err = varints(typ, v, x)
			ints = append(ints, vs...)
		case num == 4 && len(floats) <= constLimit: // float data
			var fs []float64
			fs, err = float32s(typ, v, x)
			floats = append(floats, fs...)
		}
		return err
	})
	n := elements(t.shape)
	if err != nil || n > constLimit || (n == 0 && !zeroDim(t.shape)) {
		return name, t, err
	}
	switch {
	case raw != nil:
		t.ints, t.floats = rawData(dtype, raw, n)
	case int64(len(ints)) == n && isIntType(dtype):
		t.ints = ints
	case int64(len(floats)) == n && dtype == 1:
		t.floats = floats
	}
	return name, t, nil
}

func zeroDim(shape []int64) bool {
	for _, d := range shape {
		if d == 0 {
			return true
		}
	}
	return false
}

// isIntType: int8…int64, uint8…uint64, bool (TensorProto.DataType).
func isIntType(dtype int64) bool {
	switch dtype {
	case 2, 3, 4, 5, 6, 7, 9, 12, 13:
		return true
	}
	return false
}

// rawData decodes n little-endian elements of raw_data for the types
// shape arithmetic meets: int64, int32, float32, float64.
func rawData(dtype int64, raw []byte, n int64) ([]int64, []float64) {
	size := map[int64]int64{1: 4, 6: 4, 7: 8, 11: 8}[dtype]
	if size == 0 || int64(len(raw)) != n*size {
		return nil, nil
	}
	ints, floats := []int64{}, []float64{}
	for i := int64(0); i < n; i++ {
		b := raw[i*size:]
		switch dtype {
		case 7:
			ints = append(ints, int64(binary.LittleEndian.Uint64(b)))
		case 6:
			ints = append(ints, int64(int32(binary.LittleEndian.Uint32(b))))
		case 1:
			floats = append(floats, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		case 11:
			floats = append(floats, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
	}
	if dtype == 1 || dtype == 11 {
		return nil, floats
	}
	return ints, nil
}

// float32s reads a repeated float field, packed or not.
func float32s(typ protowire.Type, v []byte, x uint64) ([]float64, error) {
	switch typ {
	case protowire.Fixed32Type:
		return []float64{float64(math.Float32frombits(uint32(x)))}, nil
	case protowire.BytesType:
		if len(v)%4 != 0 {
			return nil, fmt.Errorf("packed floats of %d bytes", len(v))
		}
		out := make([]float64, 0, min(len(v)/4, constLimit))
		for i := 0; i+4 <= len(v) && len(out) <= constLimit; i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(v[i:]))))
		}
		return out, nil
	}
	return nil, fmt.Errorf("floats with wire type %d", typ)
}

// parseDims reads a ValueInfoProto's name and tensor shape (nil when it
// has none; -1 for a symbolic or missing dimension). Unlike
// parseValueInfo it keeps intermediate values' shapes too.
func parseDims(b []byte) (name string, shape []int64, err error) {
	err = pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			name = string(v)
		case 2: // TypeProto → tensor_type (1) → shape (2) → dim (1)
			return nested(v, []protowire.Number{1, 2}, func(shapeMsg []byte) error {
				shape = []int64{}
				return pbwire.Fields(shapeMsg, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					if num != 1 || typ != protowire.BytesType {
						return nil
					}
					d := int64(-1)
					err := pbwire.Fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
						if num == 1 && typ == protowire.VarintType {
							d = int64(x)
						}
						return nil
					})
					shape = append(shape, d)
					return err
				})
			})
		}
		return nil
	})
	return name, shape, err
}

// nested calls f with the message found by following field numbers path.
func nested(b []byte, path []protowire.Number, f func([]byte) error) error {
	if len(path) == 0 {
		return f(b)
	}
	return pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if num == path[0] && typ == protowire.BytesType {
			return nested(v, path[1:], f)
		}
		return nil
	})
}
