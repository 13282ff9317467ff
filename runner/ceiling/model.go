package ceiling

import (
	"encoding/binary"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// MatMulModel is the bytes of an ONNX model with one node, Y = MatMul(X, W):
// input X float32 [batch, K] with a dynamic batch dimension, initializer W
// float32 [K, N] holding w (len K·N, row-major), output Y float32 [batch, N].
// Opset 13, IR version 8: what ORT 1.24 reads.
//
// Note: the model is written field by field with protowire (the same
// decision as onnx/graph's reader) rather than with generated onnx.proto
// bindings: a dozen fields do not justify a generated package.
func MatMulModel(k, n int, w []float32) []byte {
	if len(w) != k*n {
		panic("ceiling: weight length is not K·N")
	}
	return oneNodeModel("MatMul", k, n, "W", tensor("W", w, int64(k), int64(n)))
}

// AddModel is the bytes of the bandwidth model, Y = Add(X, B): input X
// float32 [batch, N] with a dynamic batch dimension, initializer B float32
// [N] holding b (broadcast over the rows), output Y float32 [batch, N]. Run
// one row at a time with N large, each run streams X and B in and Y out and
// does one add per 12 bytes: memory-bound on any CPU.
func AddModel(n int, b []float32) []byte {
	if len(b) != n {
		panic("ceiling: addend length is not N")
	}
	return oneNodeModel("Add", n, n, "B", tensor("B", b, int64(n)))
}

// tensor is a float32 TensorProto named name holding v with shape dims.
func tensor(name string, v []float32, dims ...int64) []byte {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	var t []byte
	t = appendInts(t, 1, dims...)
	t = appendVarint(t, 2, tensorFloat)
	t = appendBytes(t, 8, []byte(name))
	t = appendBytes(t, 9, raw)
	return t
}

// oneNodeModel is a model with one node Y = op(X, wname): X float32
// [batch, in], Y float32 [batch, out], wname the initializer weight.
func oneNodeModel(op string, in, out int, wname string, weight []byte) []byte {
	var node []byte // NodeProto
	node = appendBytes(node, 1, []byte("X"))
	node = appendBytes(node, 1, []byte(wname))
	node = appendBytes(node, 2, []byte("Y"))
	node = appendBytes(node, 3, []byte(strings.ToLower(op)))
	node = appendBytes(node, 4, []byte(op))

	var g []byte // GraphProto
	g = appendBytes(g, 1, node)
	g = appendBytes(g, 2, []byte("ortbench_ceiling"))
	g = appendBytes(g, 5, weight)
	g = appendBytes(g, 11, valueInfo("X", in))
	g = appendBytes(g, 12, valueInfo("Y", out))

	var opset []byte // OperatorSetIdProto: default domain
	opset = appendBytes(opset, 1, nil)
	opset = appendVarint(opset, 2, 13)

	var m []byte // ModelProto
	m = appendVarint(m, 1, 8)
	m = appendBytes(m, 2, []byte("ortbench"))
	m = appendBytes(m, 7, g)
	m = appendBytes(m, 8, opset)
	return m
}

// tensorFloat is TensorProto.DataType FLOAT.
const tensorFloat = 1

// valueInfo is a ValueInfoProto for a float32 [batch, width] tensor with a
// symbolic batch dimension.
func valueInfo(name string, width int) []byte {
	var batch, cols []byte // TensorShapeProto.Dimension
	batch = appendBytes(batch, 2, []byte("batch"))
	cols = appendVarint(cols, 1, uint64(width))
	var shape []byte
	shape = appendBytes(shape, 1, batch)
	shape = appendBytes(shape, 1, cols)
	var tensor []byte // TypeProto.Tensor
	tensor = appendVarint(tensor, 1, tensorFloat)
	tensor = appendBytes(tensor, 2, shape)
	var typ []byte // TypeProto
	typ = appendBytes(typ, 1, tensor)
	var vi []byte
	vi = appendBytes(vi, 1, []byte(name))
	vi = appendBytes(vi, 2, typ)
	return vi
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendInts writes a repeated int64 field packed, as protobuf 3 does.
func appendInts(b []byte, num protowire.Number, vs ...int64) []byte {
	var packed []byte
	for _, v := range vs {
		packed = protowire.AppendVarint(packed, uint64(v))
	}
	return appendBytes(b, num, packed)
}
