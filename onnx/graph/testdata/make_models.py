"""Writes tiny_bert.onnx: one BERT-like encoder layer (hidden 16, 2 heads,
FFN 64, vocabulary 50) over input_ids[batch, seq] with both dimensions
symbolic, for the FLOP-count and inspect tests. Weights are deterministic.

The light_*.onnx files beside it are copied from the onnx 1.20.1 wheel
(onnx/backend/test/data/light/): real architectures whose weights are
ConstantOfShape fills.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install onnx==1.20.1 numpy==2.4.6
    /tmp/v/bin/python onnx/graph/testdata/make_models.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

H, HEADS, FFN, VOCAB = 16, 2, 64, 50
rng = np.random.default_rng(0)
inits = []


def weight(name, *shape):
    inits.append(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name))
    return name


def ints(name, *values):
    inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
    return name


N = helper.make_node
nodes = [
    N("Gather", [weight("emb", VOCAB, H), "input_ids"], ["x0"]),
    N("LayerNormalization", ["x0", weight("ln0_s", H), weight("ln0_b", H)], ["x"], axis=-1),
    # Q, K, V: MatMul with a 2-D weight on a 3-D activation (batch dims).
    N("MatMul", ["x", weight("wq", H, H)], ["q0"]),
    N("Add", ["q0", weight("bq", H)], ["q1"]),
    N("MatMul", ["x", weight("wk", H, H)], ["k0"]),
    N("MatMul", ["x", weight("wv", H, H)], ["v0"]),
    # Q's heads through a reshape target built from Shape, as exporters do.
    N("Shape", ["x"], ["xs"]),
    N("Gather", ["xs", ints("i0", 0)], ["b"]),
    N("Gather", ["xs", ints("i1", 1)], ["s"]),
    N("Concat", ["b", "s", ints("heads", HEADS, H // HEADS)], ["qshape"], axis=0),
    N("Reshape", ["q1", "qshape"], ["q2"]),
    N("Transpose", ["q2"], ["q"], perm=[0, 2, 1, 3]),
    N("Reshape", ["k0", ints("kvshape", 0, 0, HEADS, H // HEADS)], ["k1"]),
    N("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1]),
    N("Reshape", ["v0", "kvshape"], ["v1"]),
    N("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3]),
    # Attention: MatMuls of two activations.
    N("MatMul", ["q", "kt"], ["scores0"]),
    N("Div", ["scores0", weight("scale", 1)], ["scores"]),
    N("Softmax", ["scores"], ["p"], axis=-1),
    N("MatMul", ["p", "v"], ["ctx0"]),
    N("Transpose", ["ctx0"], ["ctx1"], perm=[0, 2, 1, 3]),
    N("Reshape", ["ctx1", ints("hshape", 0, 0, -1)], ["ctx"]),
    N("MatMul", ["ctx", weight("wo", H, H)], ["o"]),
    N("Add", ["o", "x"], ["r1"]),
    N("LayerNormalization", ["r1", weight("ln1_s", H), weight("ln1_b", H)], ["y1"], axis=-1),
    N("MatMul", ["y1", weight("w1", H, FFN)], ["f1"]),
    N("Erf", ["f1"], ["f2"]),
    N("Mul", ["f1", "f2"], ["f3"]),
    N("MatMul", ["f3", weight("w2", FFN, H)], ["f4"]),
    N("Add", ["f4", "y1"], ["r2"]),
    N("LayerNormalization", ["r2", weight("ln2_s", H), weight("ln2_b", H)], ["hidden"], axis=-1),
    N("ReduceMean", ["hidden", ints("axis1", 1)], ["pooled"], keepdims=0),
]
graph = helper.make_graph(
    nodes,
    "tiny_bert",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
    [
        helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", H]),
        helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", H]),
    ],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="make_models.py", producer_version="1")
model.ir_version = 9
onnx.checker.check_model(model, full_check=True)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_bert.onnx"))
