"""Writes the bad-input corpus's data, model and results files (run from this
folder with the training venv: ../../../../training/.venv/bin/python gen.py).
The configs and cases.txt are written by hand; this script only makes the
binary files they point at. Deterministic: rerunning gives the same files."""
import json
import os
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent
D = HERE / "datasets"
M = HERE / "models"
R = HERE / "results"
for d in (D, M, R):
    d.mkdir(exist_ok=True)

ROWS = 40
rng = np.random.default_rng(7)
X = rng.integers(0, 16, size=(ROWS, 4)).astype(np.float32)
Y = (X[:, 0] > 7).astype(np.int64)
NAMES = ["f0", "f1", "f2", "f3"]


def table(cols, extra=None, meta=None):
    arrays = {n: pa.array(X[:, i]) for i, n in enumerate(NAMES) if n in cols}
    arrays["label"] = pa.array(Y)
    if extra:
        arrays.update(extra)
    order = [c for c in cols if c in arrays] + [c for c in arrays if c not in cols]
    t = pa.table({c: arrays[c] for c in order})
    if meta:
        t = t.replace_schema_metadata(meta)
    return t


def parquet(name, t):
    pq.write_table(t, D / name)


def arrow_file(name, t):
    with ipc.new_file(D / name, t.schema) as w:
        w.write_table(t)


def arrow_stream(name, t):
    with ipc.new_stream(D / name, t.schema) as w:
        w.write_table(t)


def raw(path, data):
    Path(path).write_bytes(data)


good = table(NAMES)
parquet("good.parquet", good)
arrow_file("good.arrow", good)
arrow_stream("good.arrows", good)
good_bytes = (D / "good.parquet").read_bytes()
raw(D / "truncated.parquet", good_bytes[: len(good_bytes) // 2])
raw(D / "garbage.parquet", b"PAR1 this is not really a parquet file PAR1")
raw(D / "empty.parquet", b"")
raw(D / "garbage.arrow", b"ARROW1\x00\x00 not an arrow file at all ARROW1")
ab = (D / "good.arrow").read_bytes()
raw(D / "truncated.arrow", ab[: len(ab) - 20])
sb = (D / "good.arrows").read_bytes()
raw(D / "truncated.arrows", sb[: len(sb) * 2 // 3])
raw(D / "garbage.arrows", b"\xff\xff\xff\xff\x10\x00\x00\x00garbage garbage garbage")
raw(D / "data.csv", b"f0,f1,f2,f3,label\n1,2,3,4,0\n")
(D / "adir.parquet").mkdir(exist_ok=True)
(D / "adir.parquet" / "keep").write_text("a directory named like a dataset\n")

# Dictionary-encoded columns: decode in every format.
dict_t = pa.table({
    "f0": pa.array(X[:, 0]).dictionary_encode(),
    "f1": pa.array(X[:, 1]),
    "f2": pa.array(X[:, 2]).dictionary_encode(),
    "f3": pa.array(X[:, 3]),
    "label": pa.array(Y).dictionary_encode(),
})
parquet("dict.parquet", dict_t)
arrow_file("dict.arrow", dict_t)
arrow_stream("dict.arrows", dict_t)
# A string dictionary (pandas categorical) where a feature should be.
cat_t = table(["f0", "f1", "f2"], extra={"f3": pa.array(["a", "b"] * (ROWS // 2)).dictionary_encode()})
arrow_file("dict_string.arrow", cat_t)
arrow_stream("dict_string.arrows", cat_t)

# Columns in another order than the model was trained on.
parquet("reordered.parquet", table(["f3", "f1", "f0", "f2"]))
arrow_stream("reordered.arrows", table(["f2", "f3", "f0", "f1"]))
# A pandas index column and bool/string columns beside the features.
parquet("pandas_index.parquet", table(NAMES, extra={"__index_level_0__": pa.array(np.arange(ROWS))},
                                      meta={b"pandas": json.dumps({"index_columns": ["__index_level_0__"]}).encode()}))
parquet("bool_string.parquet", table(NAMES, extra={"flag": pa.array([True, False] * (ROWS // 2)),
                                                    "note": pa.array(["x"] * ROWS)}))
parquet("string_feature.parquet", table(["f0", "f1", "f2"], extra={"f3": pa.array(["x"] * ROWS)}))
parquet("three_features.parquet", table(["f0", "f1", "f2"]))
parquet("five_features.parquet", table(NAMES, extra={"f4": pa.array(X[:, 0])}))
parquet("only_strings.parquet", pa.table({"s": pa.array(["a"] * ROWS), "t": pa.array(["b"] * ROWS)}))
parquet("missing_f2.parquet", table(["f0", "f1", "f3"], extra={"g2": pa.array(X[:, 2])}))
parquet("dup_columns.parquet", pa.Table.from_arrays([pa.array(X[:, 0]), pa.array(X[:, 1]), pa.array(X[:, 2]),
                                                    pa.array(X[:, 0]), pa.array(Y)],
                                                   names=["f0", "f1", "f2", "f0", "label"]))
nan_x = X[:, 2].copy()
nan_x[5] = np.nan
parquet("nan_feature.parquet", table(["f0", "f1", "f3"], extra={"f2": pa.array(nan_x)}))
parquet("null_feature.parquet", table(["f0", "f1", "f2"], extra={"f3": pa.array([None if i == 9 else float(v) for i, v in enumerate(X[:, 3])], pa.float32())}))
parquet("null_label.parquet", table(NAMES).set_column(4, "label", pa.array([None if i == 3 else int(v) for i, v in enumerate(Y)], pa.int64())))
parquet("frac_label.parquet", table(NAMES).set_column(4, "label", pa.array(Y.astype(np.float64) + 0.5)))
parquet("string_label.parquet", table(NAMES).set_column(4, "label", pa.array(["yes"] * ROWS)))
parquet("huge_label.parquet", table(NAMES).set_column(4, "label", pa.array([2**63 + 5] * ROWS, pa.uint64())))
parquet("zero_rows.parquet", table(NAMES).slice(0, 0))
tens = pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), 4)
parquet("tensor3.parquet", pa.table({"features": pa.FixedSizeListArray.from_arrays(pa.array(X[:, :3].reshape(-1)), 3), "label": pa.array(Y)}))
parquet("tensor_list.parquet", pa.table({"features": pa.array([list(map(float, r)) for r in X], pa.list_(pa.float32())), "label": pa.array(Y)}))
parquet("tensor_strings.parquet", pa.table({"features": pa.FixedSizeListArray.from_arrays(pa.array(["a"] * (ROWS * 4)), 4), "label": pa.array(Y)}))
parquet("tensor_ok.parquet", pa.table({"features": tens, "label": pa.array(Y)}))
# verify.expected files for the tiny model: label + probabilities[2].
W = np.array([[0.1, -0.1], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype=np.float32)
P = X @ W
exp_nan = P.copy()
exp_nan[7, 1] = np.nan
def expected(name, probs, label=None):
    parquet(name, pa.table({"label": pa.array(np.argmax(P, axis=1).astype(np.int64) if label is None else label),
                            "probabilities": pa.FixedSizeListArray.from_arrays(pa.array(probs.reshape(-1)), 2)}))
expected("expected_ok.parquet", P)
expected("expected_nan.parquet", exp_nan)
expected("expected_short.parquet", P[:10], label=np.argmax(P[:10], axis=1).astype(np.int64))
parquet("expected_no_probs.parquet", pa.table({"label": pa.array(np.argmax(P, axis=1).astype(np.int64)), "other": pa.array(P[:, 0])}))


# Models: hand-built with onnx.helper, opset 17, IR 8.
def save(name, nodes, inputs, outputs, inits=(), names=NAMES, meta=None):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8, producer_name="ortbench-corpus")
    props = {}
    if names is not None:
        props["ortbench.feature_names"] = json.dumps(names)
    if meta:
        props.update(meta)
    if props:
        helper.set_model_props(m, props)
    onnx.save(m, M / name)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


F, I64 = TensorProto.FLOAT, TensorProto.INT64
w_init = helper.make_tensor("W", F, [4, 2], W.reshape(-1).tolist())
tiny = [helper.make_node("MatMul", ["input", "W"], ["probabilities"]),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0)]
tiny_outs = [vi("label", I64, ["N"]), vi("probabilities", F, ["N", 2])]
save("ok4.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init])
save("ok4_nonames.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init], names=None)
save("names_bad_json.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init], names=None,
     meta={"ortbench.feature_names": "f0,f1,f2,f3"})
save("names_dup.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init], names=["f0", "f1", "f1", "f3"])
save("names_other.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init], names=["a", "b", "c", "d"])
save("names_three.onnx", tiny, [vi("input", F, ["N", 4])], tiny_outs, [w_init], names=["f0", "f1", "f2"])
w5 = helper.make_tensor("W", F, [5, 2], [0.1] * 10)
save("width5.onnx", tiny, [vi("input", F, ["N", 5])], tiny_outs, [w5], names=None)
save("fixed_batch.onnx", tiny, [vi("input", F, [1, 4])], [vi("label", I64, [1]), vi("probabilities", F, [1, 2])], [w_init])
save("rank1_input.onnx", [helper.make_node("Identity", ["input"], ["out"])], [vi("input", F, ["N"])], [vi("out", F, ["N"])])
save("rank3_input.onnx", [helper.make_node("Identity", ["input"], ["out"])], [vi("input", F, ["N", 4, 1])], [vi("out", F, ["N", 4, 1])])
save("two_inputs.onnx", [helper.make_node("Add", ["a", "b"], ["out"])], [vi("a", F, ["N", 4]), vi("b", F, ["N", 4])], [vi("out", F, ["N", 4])])
save("no_outputs_used.onnx", [helper.make_node("Identity", ["input"], ["out"])], [vi("input", F, ["N", 4])], [vi("out", TensorProto.DOUBLE, ["N", 4])])
for elem, tag in [(TensorProto.FLOAT16, "float16"), (TensorProto.DOUBLE, "float64"), (TensorProto.INT64, "int64"),
                  (TensorProto.BOOL, "bool"), (TensorProto.STRING, "string")]:
    save(f"input_{tag}.onnx", [helper.make_node("Identity", ["input"], ["out"])], [vi("input", elem, ["N", 4])], [vi("out", elem, ["N", 4])])
for elem, tag in [(TensorProto.INT32, "int32"), (TensorProto.FLOAT16, "float16"), (TensorProto.STRING, "string"),
                  (TensorProto.BOOL, "bool"), (TensorProto.UINT8, "uint8")]:
    save(f"output_{tag}.onnx", [helper.make_node("Cast", ["input"], ["out"], to=elem)], [vi("input", F, ["N", 4])], [vi("out", elem, ["N", 4])])
shape3 = helper.make_tensor("shape", I64, [3], [-1, 2, 2])
save("output_rank3.onnx", [helper.make_node("Reshape", ["input", "shape"], ["out"])], [vi("input", F, ["N", 4])], [vi("out", F, ["N", 2, 2])], [shape3])
save("output_no_batch.onnx", [helper.make_node("ReduceSum", ["input", "axes"], ["out"], keepdims=0)],
     [vi("input", F, ["N", 4])], [vi("out", F, [4])], [helper.make_tensor("axes", I64, [1], [0])])
save("output_scalar.onnx", [helper.make_node("ReduceSum", ["input"], ["out"], keepdims=0)], [vi("input", F, ["N", 4])], [vi("out", F, [])])
seq = [helper.make_node("SequenceConstruct", ["input"], ["out"])]
save("output_sequence.onnx", seq, [vi("input", F, ["N", 4])], [helper.make_tensor_sequence_value_info("out", F, ["N", 4])])
raw(M / "garbage.onnx", b"this is not a protobuf \x00\x01\x02 at all")
raw(M / "empty.onnx", b"")
okb = (M / "ok4.onnx").read_bytes()
raw(M / "truncated.onnx", okb[: len(okb) // 2])
# An op ONNX does not have.
bad_op = helper.make_graph([helper.make_node("NoSuchOp", ["input"], ["out"])], "g", [vi("input", F, ["N", 4])], [vi("out", F, ["N", 4])])
raw(M / "unknown_op.onnx", helper.make_model(bad_op, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString())

# Results files for report / compare.
raw(R / "empty.json", b"")
raw(R / "garbage.json", b"\x00\x01 not json {{{")
raw(R / "truncated.json", b'{"schema": "ortbench/results/v2", "experiment": {"name": "x", "config_sha2')
raw(R / "array.json", b"[1, 2, 3]\n")
raw(R / "wrong_schema.json", b'{"schema": "someone-else/v9", "cells": []}\n')
raw(R / "no_schema.json", b'{"cells": []}\n')
raw(R / "cells_string.json", b'{"schema": "ortbench/results/v2", "cells": "many"}\n')
raw(R / "nan_token.json", b'{"schema": "ortbench/results/v2", "cells": [{"rows_per_second": NaN}]}\n')
raw(R / "deep.json", b"[" * 20000 + b"]" * 20000)
(R / "incomplete").mkdir(exist_ok=True)
raw(R / "incomplete" / "results.json", b'{"schema": "ortbench/results/v2", "experiment": {"name": "x"}, "cells": [], '
    b'"incomplete": true, "incomplete_reason": "written while the run was still going: if nothing later completed it, '
    b'the run was cut short (killed or crashed)"}\n')
(R / "emptydir").mkdir(exist_ok=True)
(R / "emptydir" / "keep").write_text("no results.json here\n")

# A tune's checkpoints for report (TUNE.json|DIR makes the tune's files again).
T = HERE / "tune"
for name, data in [
    ("garbage", b"not json\n"),
    ("wrong_schema", b'{"schema": "ortbench/tune/v1", "identity": "x", "steps": []}\n'),
    ("no_result", b'{"schema": "ortbench/tune/v2", "identity": "x", "steps": [], "done": false}\n'),
    # Finished, but from an ortbench before tune.json kept its origin.
    ("no_origin", b'{"schema": "ortbench/tune/v2", "identity": "x", "steps": [], "done": true, "stop_reason": "budget", '
     b'"result": {"grid": 1, "visited": 0, "objective": "throughput", "constraints": "none", "recommendations": [], '
     b'"front": [], "why": [], "points": []}}\n'),
]:
    (T / name).mkdir(parents=True, exist_ok=True)
    raw(T / name / "tune.json", data)
print("ok")
