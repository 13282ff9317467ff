"""Writes the small deterministic models the onnx package's tests run.

Run with onnx==1.20.1 (any venv): python onnx/testdata/make_models.py
Every model is simple enough for the tests to compute its outputs in Go.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")

DTYPES = {"float32": T.FLOAT, "float16": T.FLOAT16, "float64": T.DOUBLE, "int64": T.INT64,
          "int32": T.INT32, "int8": T.INT8, "uint8": T.UINT8, "bool": T.BOOL}


def vi(name, dtype, shape):
    return h.make_tensor_value_info(name, dtype, shape)


def save(name, nodes, inputs, outputs, inits=()):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)], producer_name="ortbench-testdata")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))


def main():
    os.makedirs(HERE, exist_ok=True)
    # One per dtype: y = x + x (bool: y = not x), x [batch, 3].
    for name, d in DTYPES.items():
        node = h.make_node("Not", ["x"], ["y"]) if name == "bool" else h.make_node("Add", ["x", "x"], ["y"])
        save("dtype_" + name, [node], [vi("x", d, ["batch", 3])], [vi("y", d, ["batch", 3])])
    # Ranks 1..8: x [batch, 2, …, 2], y = x + x.
    for r in range(1, 9):
        shape = ["batch"] + [2] * (r - 1)
        save("rank%d" % r, [h.make_node("Add", ["x", "x"], ["y"])],
             [vi("x", T.FLOAT, shape)], [vi("y", T.FLOAT, shape)])
    save("rank9", [h.make_node("Identity", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["batch"] + [1] * 8)], [vi("y", T.FLOAT, ["batch"] + [1] * 8)])
    # Four inputs of four dtypes, outputs of seven.
    save("multi", [
        h.make_node("Mul", ["a", "two"], ["fa"]),
        h.make_node("Add", ["b", "one"], ["ib"]),
        h.make_node("Cast", ["c"], ["wc"], to=T.INT32),
        h.make_node("Cast", ["c"], ["sc"], to=T.INT8),
        h.make_node("Not", ["d"], ["nd"]),
        h.make_node("Cast", ["a"], ["ha"], to=T.FLOAT16),
        h.make_node("Cast", ["b"], ["db"], to=T.DOUBLE),
    ], [vi("a", T.FLOAT, ["batch", 3, 4]), vi("b", T.INT64, ["batch", 5]),
        vi("c", T.UINT8, ["batch", 2, 2]), vi("d", T.BOOL, ["batch", 1])],
        [vi("fa", T.FLOAT, ["batch", 3, 4]), vi("ib", T.INT64, ["batch", 5]), vi("wc", T.INT32, ["batch", 2, 2]),
         vi("sc", T.INT8, ["batch", 2, 2]), vi("nd", T.BOOL, ["batch", 1]), vi("ha", T.FLOAT16, ["batch", 3, 4]),
         vi("db", T.DOUBLE, ["batch", 5])],
        [h.make_tensor("two", T.FLOAT, [], [2.0]), h.make_tensor("one", T.INT64, [], [1])])
    # Four inputs of four dtypes with open non-batch dimensions (seq, h, w),
    # for `run --model … --shape` (cmd/ortbench's test).
    save("multi_symbolic", [
        h.make_node("Mul", ["a", "two"], ["fa"]),
        h.make_node("Add", ["b", "one"], ["ib"]),
        h.make_node("Cast", ["c"], ["wc"], to=T.INT32),
        h.make_node("Not", ["d"], ["nd"]),
    ], [vi("a", T.FLOAT, ["batch", "seq", 4]), vi("b", T.INT64, ["batch", "seq"]),
        vi("c", T.UINT8, ["batch", "h", "w"]), vi("d", T.BOOL, ["batch", 1])],
        [vi("fa", T.FLOAT, ["batch", "seq", 4]), vi("ib", T.INT64, ["batch", "seq"]),
         vi("wc", T.INT32, ["batch", "h", "w"]), vi("nd", T.BOOL, ["batch", 1])],
        [h.make_tensor("two", T.FLOAT, [], [2.0]), h.make_tensor("one", T.INT64, [], [1])])
    # Fixed batch: conv of x [1,3,8,8] with W [2,3,3,3], W[o,c,i,j] = (o*27+c*9+i*3+j) % 5 - 2.
    w = np.array([(k % 5) - 2 for k in range(54)], dtype=np.float32).reshape(2, 3, 3, 3)
    save("conv_fixed", [h.make_node("Conv", ["x", "W"], ["y"])],
         [vi("x", T.FLOAT, [1, 3, 8, 8])], [vi("y", T.FLOAT, [1, 2, 6, 6])],
         [onnx.numpy_helper.from_array(w, "W")])
    # A symbolic non-batch dimension: y = x @ x, x [batch, n, n].
    save("symbolic", [h.make_node("MatMul", ["x", "x"], ["y"])],
         [vi("x", T.FLOAT, ["batch", "n", "n"])], [vi("y", T.FLOAT, ["batch", "n", "n"])])
    # An unnamed dynamic non-batch dimension.
    save("unnamed_dim", [h.make_node("Identity", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["batch", None])], [vi("y", T.FLOAT, ["batch", None])])
    # A sequence output beside a tensor one.
    save("seq_output", [h.make_node("Add", ["x", "x"], ["y"]), h.make_node("SequenceConstruct", ["x", "x"], ["s"])],
         [vi("x", T.FLOAT, ["batch", 3])],
         [vi("y", T.FLOAT, ["batch", 3]), h.make_value_info("s", h.make_sequence_type_proto(
             h.make_tensor_type_proto(T.FLOAT, ["batch", 3])))])
    # No batch axis: x [4] and a scalar k, y = x * k, and a scalar s = sum(y).
    save("nobatch", [h.make_node("Mul", ["x", "k"], ["y"]), h.make_node("ReduceSum", ["y"], ["s"], keepdims=0)],
         [vi("x", T.FLOAT, [4]), vi("k", T.FLOAT, [])], [vi("y", T.FLOAT, [4]), vi("s", T.FLOAT, [])])
    # Inputs that disagree on batching: a free, b fixed at 1.
    save("mixed_batch", [h.make_node("Add", ["a", "b"], ["y"])],
         [vi("a", T.FLOAT, ["batch", 3]), vi("b", T.FLOAT, [1, 3])], [vi("y", T.FLOAT, ["batch", 3])])
    # A zero dimension, and a sequence input.
    save("zero_dim", [h.make_node("Identity", ["x"], ["y"])],
         [vi("x", T.FLOAT, ["batch", 0])], [vi("y", T.FLOAT, ["batch", 0])])
    seq = h.make_sequence_type_proto(h.make_tensor_type_proto(T.FLOAT, ["batch", 3]))
    save("seq_input", [h.make_node("SequenceAt", ["s", "zero"], ["y"])],
         [h.make_value_info("s", seq)], [vi("y", T.FLOAT, ["batch", 3])],
         [h.make_tensor("zero", T.INT64, [], [0])])


if __name__ == "__main__":
    main()
