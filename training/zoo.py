"""The model zoo's Python steps (scripts/zoo.sh runs them; see docs/MODELS.md).

  python training/zoo.py light SRC_DIR OUT_DIR
      For light_resnet50, light_squeezenet and light_shufflenet from the onnx
      wheel's onnx/backend/test/data/light/ (SRC_DIR): OUT_DIR/NAME/NAME.onnx
      as shipped, and beside it the ONNX test-data layout
      test_data_set_0/input_0.pb + output_0.pb. The wheel ships only the
      expected output; the input is the one onnx's backend test runner
      feeds when it made that output (onnx/backend/test/runner/__init__.py,
      generate_dummy_data(random=False): arange(n).reshape(shape) / n as
      float32). Also OUT_DIR/light_resnet50_batched.onnx: the same graph
      with a symbolic batch axis N (input, output and the one Reshape's
      [1, 2048] made [-1, 2048]), so it runs at any batch size.

  python training/zoo.py check OUT_DIR
      Loads every zoo model in ONNX Runtime and runs it once at batch 1
      (and at batch 8 where the batch axis is free): outputs finite, the
      light models' outputs equal to their output_0.pb within the onnx
      backend tests' tolerance (rtol 1e-3, atol 1e-7). One line per model;
      exit 1 on the first failure.

  python training/zoo.py time OUT_DIR
      One thread, median and fastest of 7 calls per model and batch size, as
      a Markdown table (docs/MODELS.md's figures).
"""

import os
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

LIGHT = ["light_resnet50", "light_squeezenet", "light_shufflenet"]
BATCHED = "light_resnet50_batched"


def arange_input(value_info):
    """onnx's runner's dummy input: dims without a value count as 1."""
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1
                  for d in value_info.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def data_inputs(model):
    """Graph inputs that are not initializers (IR < 4 lists the weights as inputs too)."""
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def light(src, out):
    for name in LIGHT:
        with open(os.path.join(src, name + ".onnx"), "rb") as f:
            raw = f.read()
        model = onnx.load_from_string(raw)
        inputs = data_inputs(model)
        if len(inputs) != 1:
            sys.exit(f"{name}.onnx: {len(inputs)} data inputs, want 1")
        d = os.path.join(out, name)
        sets = os.path.join(d, "test_data_set_0")
        os.makedirs(sets, exist_ok=True)
        write_bytes(os.path.join(d, name + ".onnx"), raw)  # byte for byte as shipped
        x = numpy_helper.from_array(arange_input(inputs[0]), inputs[0].name)
        write_bytes(os.path.join(sets, "input_0.pb"), x.SerializeToString(deterministic=True))
        with open(os.path.join(src, name + "_output_0.pb"), "rb") as f:
            write_bytes(os.path.join(sets, "output_0.pb"), f.read())
    batched(os.path.join(out, "light_resnet50", "light_resnet50.onnx"),
            os.path.join(out, BATCHED + ".onnx"))


def batched(src, dst):
    model = onnx.load(src)
    g = model.graph
    x = data_inputs(model)[0]
    for vi in (x, g.output[0]):
        dim = vi.type.tensor_type.shape.dim[0]
        if dim.dim_value != 1:
            sys.exit(f"{src}: {vi.name}'s first dimension is {dim}, want 1")
        dim.Clear()
        dim.dim_param = "N"
    inits = {i.name: i for i in g.initializer}
    reshapes = [n for n in g.node if n.op_type == "Reshape"]
    if len(reshapes) != 1:
        sys.exit(f"{src}: {len(reshapes)} Reshape nodes, want 1")
    shape = inits[reshapes[0].input[1]]
    if numpy_helper.to_array(shape).tolist() != [1, 2048]:
        sys.exit(f"{src}: the Reshape's shape is {numpy_helper.to_array(shape)}, want [1, 2048]")
    shape.CopyFrom(numpy_helper.from_array(np.array([-1, 2048], np.int64), shape.name))
    model.doc_string = ("light_resnet50 from the onnx 1.20.1 wheel with a symbolic batch axis N "
                        "(made by ortbench training/zoo.py)")
    onnx.checker.check_model(model)
    write_bytes(dst, model.SerializeToString(deterministic=True))


# check: every model, the feeds it gets (name → array builder of the batch).
def feeds_for(name, batch, rng):
    if name == "transformer":
        return {"input_ids": rng.integers(0, 30522, (batch, 128), dtype=np.int64),
                "attention_mask": np.ones((batch, 128), np.int64)}
    if name == "magika_standard_v3_3":
        return {"bytes": rng.integers(0, 257, (batch, 2048), dtype=np.int32)}
    if name == "ppocrv4_rec":
        return {"x": rng.random((batch, 3, 48, 320), dtype=np.float32)}
    if name == "ppocr_mobile_v2_cls":
        return {"x": rng.random((batch, 3, 48, 192), dtype=np.float32)}
    if name == BATCHED:
        return {"gpu_0/data_0": rng.random((batch, 3, 224, 224), dtype=np.float32)}
    raise KeyError(name)


def session(ort, path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3  # the light models' unused initializer warning is expected
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run_once(s, feeds):
    start = time.perf_counter()
    outs = s.run(None, feeds)
    return outs, time.perf_counter() - start


def test_data(out, name):
    """The light model's test_data_set_0: its input's name and array, the expected output."""
    sets = os.path.join(out, name, "test_data_set_0")
    x = onnx.load_tensor(os.path.join(sets, "input_0.pb"))
    want = numpy_helper.to_array(onnx.load_tensor(os.path.join(sets, "output_0.pb")))
    return x.name, numpy_helper.to_array(x), want


def matches(name, got, want):
    if not np.allclose(got, want, rtol=1e-3, atol=1e-7):
        sys.exit(f"{name}: output differs from output_0.pb by up to {np.abs(got - want).max()}")


def check_light(ort, out, name):
    x_name, x, want = test_data(out, name)
    outs, took = run_once(session(ort, os.path.join(out, name, name + ".onnx")), {x_name: x})
    matches(name, outs[0], want)
    return f"{name}: output {outs[0].shape} matches test_data_set_0 ({took * 1e3:.0f} ms, 1 thread)"


def check(out):
    import onnxruntime as ort  # only the check needs it
    lines = [check_light(ort, out, n) for n in LIGHT]
    rng = np.random.default_rng(0)
    for name in [BATCHED, "transformer", "magika_standard_v3_3", "ppocrv4_rec", "ppocr_mobile_v2_cls"]:
        s = session(ort, os.path.join(out, name + ".onnx"))
        if name == BATCHED:  # at batch 1 it is light_resnet50 exactly
            x_name, x, want = test_data(out, "light_resnet50")
            matches(name, s.run(None, {x_name: x})[0], want)
        for batch in (1, 8):
            outs, took = run_once(s, feeds_for(name, batch, rng))
            bad = [i for i, o in enumerate(outs) if not np.isfinite(o).all()]
            if bad or outs[0].shape[0] != batch:
                sys.exit(f"{name}: batch {batch}: outputs {bad} not finite or batch axis {outs[0].shape}")
            lines.append(f"{name}: batch {batch}: outputs {[o.shape for o in outs]} ({took * 1e3:.0f} ms, 1 thread)")
    print("\n".join(lines))
    print(f"zoo check: ONNX Runtime {ort.__version__} ran every model")


def timing(out, calls=7):
    """Median and fastest of `calls` calls per model and batch size, one thread."""
    import onnxruntime as ort
    rng = np.random.default_rng(0)
    print("| model | batch | median ms | min ms |\n| --- | --- | --- | --- |")
    rows = [(n, os.path.join(out, n, n + ".onnx"), [1]) for n in LIGHT]
    rows += [(n, os.path.join(out, n + ".onnx"), [1, 8]) for n in
             [BATCHED, "transformer", "magika_standard_v3_3", "ppocrv4_rec", "ppocr_mobile_v2_cls"]]
    for name, path, batches in rows:
        s = session(ort, path)
        for batch in batches:
            if name in LIGHT:
                x_name, x, _ = test_data(out, name)
                feeds = {x_name: x}
            else:
                feeds = feeds_for(name, batch, rng)
            s.run(None, feeds)  # first call: allocations, kernel selection
            took = sorted(run_once(s, feeds)[1] for _ in range(calls))
            print(f"| {name} | {batch} | {took[calls // 2] * 1e3:.1f} | {took[0] * 1e3:.1f} |")


def main(argv):
    if len(argv) == 4 and argv[1] == "light":
        light(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "check":
        check(argv[2])
    elif len(argv) == 3 and argv[1] == "time":
        timing(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
