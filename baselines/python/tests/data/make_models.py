"""Builds the small test models the Python twin's tests feed from an .npz.

Run with an interpreter that has onnx (not in the baseline's .venv), e.g.
``python -m venv /tmp/v && /tmp/v/bin/pip install onnx==1.20.1 numpy`` then
``/tmp/v/bin/python baselines/python/tests/data/make_models.py``.

- multi.onnx: eight inputs, one per dtype ortbench feeds, a free batch axis;
  one tensor output per dtype and a sequence output (the twin leaves it out).
- item.onnx: two inputs without a batch axis (one call = one item).
- fixed.onnx: one input whose batch axis the model fixes at 2.

The arithmetic is mirrored by tests/test_inputs.py and runner/pyproc's Go test.
"""

from pathlib import Path

import onnx
from onnx import TensorProto as T
from onnx import helper as h

HERE = Path(__file__).resolve().parent
OPSET = [h.make_opsetid("", 17)]


def save(graph, name):
    m = h.make_model(graph, opset_imports=OPSET, producer_name="ortbench-tests")
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(HERE / name))


def multi():
    b = "batch"
    inputs = [h.make_tensor_value_info("x_f32", T.FLOAT, [b, 3]),
              h.make_tensor_value_info("x_f16", T.FLOAT16, [b, 2, 2]),
              h.make_tensor_value_info("x_f64", T.DOUBLE, [b, 1]),
              h.make_tensor_value_info("ids", T.INT64, [b, 4]),
              h.make_tensor_value_info("i32", T.INT32, [b]),
              h.make_tensor_value_info("i8", T.INT8, [b, 2]),
              h.make_tensor_value_info("u8", T.UINT8, [b, 3]),
              h.make_tensor_value_info("mask", T.BOOL, [b, 4])]
    outputs = [h.make_tensor_value_info("out_f32", T.FLOAT, [b, 3]),
               h.make_tensor_sequence_value_info("out_seq", T.FLOAT, None),
               h.make_tensor_value_info("out_f16", T.FLOAT16, [b, 2, 2]),
               h.make_tensor_value_info("out_f64", T.DOUBLE, [b, 1]),
               h.make_tensor_value_info("out_i64", T.INT64, [b, 4]),
               h.make_tensor_value_info("out_i32", T.INT32, [b]),
               h.make_tensor_value_info("out_i8", T.INT8, [b, 2]),
               h.make_tensor_value_info("out_u8", T.UINT8, [b, 3]),
               h.make_tensor_value_info("out_bool", T.BOOL, [b, 4])]
    consts = [h.make_tensor("two", T.FLOAT, [], [2.0]),
              h.make_tensor("three", T.INT32, [], [3]),
              h.make_tensor("one", T.INT32, [], [1])]
    nodes = [
        # out_f32 = x_f32 + float(u8)
        h.make_node("Cast", ["u8"], ["u8_f"], to=T.FLOAT),
        h.make_node("Add", ["x_f32", "u8_f"], ["out_f32"]),
        h.make_node("SequenceConstruct", ["x_f32"], ["out_seq"]),
        # out_f16 = float16(float(x_f16) * 2)
        h.make_node("Cast", ["x_f16"], ["f16_f"], to=T.FLOAT),
        h.make_node("Mul", ["f16_f", "two"], ["f16_2"]),
        h.make_node("Cast", ["f16_2"], ["out_f16"], to=T.FLOAT16),
        # out_f64 = x_f64 + x_f64
        h.make_node("Add", ["x_f64", "x_f64"], ["out_f64"]),
        # out_i64 = ids * int64(mask)
        h.make_node("Cast", ["mask"], ["mask_i"], to=T.INT64),
        h.make_node("Mul", ["ids", "mask_i"], ["out_i64"]),
        # out_i32 = i32 * 3
        h.make_node("Mul", ["i32", "three"], ["out_i32"]),
        # out_i8 = -i8
        h.make_node("Neg", ["i8"], ["out_i8"]),
        # out_u8 = uint8(int32(u8) + 1)
        h.make_node("Cast", ["u8"], ["u8_i"], to=T.INT32),
        h.make_node("Add", ["u8_i", "one"], ["u8_1"]),
        h.make_node("Cast", ["u8_1"], ["out_u8"], to=T.UINT8),
        # out_bool = not mask
        h.make_node("Not", ["mask"], ["out_bool"]),
    ]
    save(h.make_graph(nodes, "multi", inputs, outputs, initializer=consts), "multi.onnx")


def item():
    inputs = [h.make_tensor_value_info("img", T.FLOAT, [3, 4]),
              h.make_tensor_value_info("k", T.INT64, [2])]
    outputs = [h.make_tensor_value_info("y", T.FLOAT, [3, 4]),
               h.make_tensor_value_info("s", T.INT64, [])]
    nodes = [h.make_node("Mul", ["img", "two"], ["y"]),
             h.make_node("ReduceSum", ["k"], ["s"], keepdims=0)]
    save(h.make_graph(nodes, "item", inputs, outputs, initializer=[h.make_tensor("two", T.FLOAT, [], [2.0])]), "item.onnx")


def fixed():
    inputs = [h.make_tensor_value_info("x", T.FLOAT, [2, 3])]
    outputs = [h.make_tensor_value_info("y", T.FLOAT, [2, 3])]
    nodes = [h.make_node("Add", ["x", "one"], ["y"])]
    save(h.make_graph(nodes, "fixed", inputs, outputs, initializer=[h.make_tensor("one", T.FLOAT, [], [1.0])]), "fixed.onnx")


if __name__ == "__main__":
    multi()
    item()
    fixed()
