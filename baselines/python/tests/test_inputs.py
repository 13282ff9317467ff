"""Models fed from ortbench's inputs file (.npz): several inputs of every
dtype, inputs without a batch axis, a fixed batch; every strategy must give
what numpy computes for the test models (tests/data/make_models.py)."""

import numpy as np
import pytest

from conftest import HERE
from test_runner import CELLS, run_cell
from ortbench_py.work import Feed, Feeds, Job, read_npz

MODELS = HERE / "data"

# multi.onnx's inputs: name, dtype, one item's dims.
MULTI = [("x_f32", "float32", (3,)), ("x_f16", "float16", (2, 2)), ("x_f64", "float64", (1,)),
         ("ids", "int64", (4,)), ("i32", "int32", ()), ("i8", "int8", (2,)), ("u8", "uint8", (3,)),
         ("mask", "bool", (4,))]

# Every tensor output as it travels (float32 or int64) and its values per item.
MULTI_LAYOUT = [("out_f32", "float32", 3), ("out_f16", "float32", 4), ("out_f64", "float32", 1),
                ("out_i64", "int64", 4), ("out_i32", "int64", 1), ("out_i8", "int64", 2),
                ("out_u8", "int64", 3), ("out_bool", "int64", 4)]


def multi_arrays(items, seed=7):
    r = np.random.default_rng(seed)
    return {
        "x_f32": r.normal(size=(items, 3)).astype(np.float32),
        "x_f16": r.uniform(-4, 4, size=(items, 2, 2)).astype(np.float16),
        "x_f64": r.normal(size=(items, 1)),
        "ids": r.integers(0, 30522, size=(items, 4)),
        "i32": r.integers(-1000, 1000, size=(items,)).astype(np.int32),
        "i8": r.integers(-127, 128, size=(items, 2)).astype(np.int8),
        "u8": r.integers(0, 255, size=(items, 3)).astype(np.uint8),
        "mask": r.integers(0, 2, size=(items, 4)).astype(bool),
    }


def multi_expected(a):
    """multi.onnx's arithmetic in numpy, converted as ortbench stores outputs."""
    f16 = (a["x_f16"].astype(np.float32) * 2).astype(np.float16)
    out = {
        "out_f32": a["x_f32"] + a["u8"].astype(np.float32),
        "out_f16": f16.astype(np.float32),
        "out_f64": (a["x_f64"] + a["x_f64"]).astype(np.float32),
        "out_i64": a["ids"] * a["mask"],
        "out_i32": (a["i32"] * 3).astype(np.int64),
        "out_i8": (-a["i8"]).astype(np.int64),
        "out_u8": (a["u8"].astype(np.int32) + 1).astype(np.uint8).astype(np.int64),
        "out_bool": (~a["mask"]).astype(np.int64),
    }
    return {k: v.reshape(-1) for k, v in out.items()}


def workload(model, npz, items, feeds):
    return {"kind": "onnx", "model": str(MODELS / model), "inputs": str(npz), "rows": items, "width": 1,
            "feeds": [{"name": n, "dtype": d, "item": list(i), "batch": b} for n, d, i, b in feeds]}


def layout_of(outs):
    return [{"name": n, "kind": k, "width": w} for n, k, w in outs]


@pytest.mark.parametrize("strategy,params", CELLS, ids=[f"{s}-{'-'.join(map(str, p.values()))}" for s, p in CELLS])
def test_multi_input_model_matches_numpy(client, tmp_path, strategy, params):
    items, bs = 23, 5  # 5 batches, the last one short
    arrays = multi_arrays(items + 4)  # more items in the file than the run uses
    npz = tmp_path / "inputs.npz"
    np.savez(npz, **arrays)
    w = workload("multi.onnx", npz, items, [(n, d, i, 0) for n, d, i in MULTI])
    want = multi_expected({k: v[:items] for k, v in arrays.items()})
    _, results = run_cell(client, strategy, params, w, layout_of(MULTI_LAYOUT), bs, [2, 5])
    (h2, b2), (h5, b5) = results
    assert h2["ok"] and h2["rows"] == 10 and h5["ok"] and h5["rows"] == items
    assert [b["name"] for b in h5["blocks"]] == ["latency_ns"] + [n for n, _, _ in MULTI_LAYOUT]
    assert (b5["latency_ns"] > 0).all()
    for name, _, width in MULTI_LAYOUT:
        np.testing.assert_array_equal(b2[name], want[name][:10 * width], err_msg=name)
        np.testing.assert_array_equal(b5[name], want[name], err_msg=name)


@pytest.mark.parametrize("strategy,params", [("py-sequential", {}), CELLS[5]], ids=["py-sequential", "py-pool-shm"])
def test_inputs_without_a_batch_axis_are_fed_one_item_per_call(client, tmp_path, strategy, params):
    items = 6
    img = np.arange(items * 12, dtype=np.float32).reshape(items, 3, 4) / 8
    k = np.arange(items * 2, dtype=np.int64).reshape(items, 2) - 5
    npz = tmp_path / "item.npz"
    np.savez(npz, img=img, k=k)
    w = workload("item.onnx", npz, items, [("img", "float32", (3, 4), -1), ("k", "int64", (2,), -1)])
    _, results = run_cell(client, strategy, params, w, layout_of([("y", "float32", 12), ("s", "int64", 1)]), 1, [items])
    head, blocks = results[0]
    assert head["ok"] and head["rows"] == items
    np.testing.assert_array_equal(blocks["y"], (img * 2).reshape(-1))
    np.testing.assert_array_equal(blocks["s"], k.sum(axis=1))


def test_fixed_batch(client, tmp_path):
    x = np.linspace(-1, 1, 8 * 3, dtype=np.float32).reshape(8, 3)
    npz = tmp_path / "fixed.npz"
    np.savez(npz, x=x)
    w = workload("fixed.onnx", npz, 8, [("x", "float32", (3,), 2)])
    _, results = run_cell(client, "py-threads", {"workers": 2}, w, layout_of([("y", "float32", 3)]), 2, [4])
    head, blocks = results[0]
    assert head["ok"] and head["rows"] == 8
    np.testing.assert_array_equal(blocks["y"], (x + 1).reshape(-1))


def start_error(client, w, layout, bs=2):
    from conftest import start_message

    head, _ = client.send(start_message("py-sequential", w, bs, layout))
    assert not head["ok"]
    client.close()
    return head["error"]


@pytest.mark.parametrize("case,want", [
    ("dtype", "input 'x_f64' is <f4"),
    ("shape", "input 'ids' is <i8 (10, 5)"),
    ("missing", "no array for input 'mask'"),
    ("scalar", "input 'i32' is <i4 (), want <i4 (10,)"),
    ("items", "input 'x_f32' is <f4 (10, 3), want <f4 (11, 3)"),
    ("order", "ortbench feeds"),
    ("sequence", "outputs ['out_seq'] are not tensors"),
    ("batch", "fixes the batch at 2"),
])
def test_bad_inputs_fail_start_naming_the_input(client, tmp_path, case, want):
    arrays = multi_arrays(10)
    feeds = [(n, d, i, 0) for n, d, i in MULTI]
    layout, items = layout_of(MULTI_LAYOUT), 10
    if case == "dtype":
        arrays["x_f64"] = arrays["x_f64"].astype(np.float32)
    elif case == "shape":
        arrays["ids"] = np.zeros((10, 5), np.int64)
    elif case == "scalar":
        arrays["i32"] = np.int32(5)
    elif case == "missing":
        del arrays["mask"]
    elif case == "items":
        items = 11
    elif case == "order":
        feeds[0], feeds[1] = feeds[1], feeds[0]
    elif case == "sequence":
        layout.append({"name": "out_seq", "kind": "float32", "width": 3})
    elif case == "batch":
        feeds[0] = ("x_f32", "float32", (3,), 2)
        items = 9
    npz = tmp_path / "bad.npz"
    np.savez(npz, **arrays)
    assert want in start_error(client, workload("multi.onnx", npz, items, feeds), layout)


def test_items_without_a_batch_axis_want_batch_size_1(client, tmp_path):
    npz = tmp_path / "item.npz"
    np.savez(npz, img=np.zeros((4, 3, 4), np.float32), k=np.zeros((4, 2), np.int64))
    w = workload("item.onnx", npz, 4, [("img", "float32", (3, 4), -1), ("k", "int64", (2,), -1)])
    assert "batch size 2, want 1" in start_error(client, w, layout_of([("y", "float32", 12)]))


def test_npz_is_mapped_not_copied(tmp_path):
    arrays = multi_arrays(5)
    npz = tmp_path / "m.npz"
    np.savez(npz, **arrays)
    got = read_npz(str(npz))
    assert sorted(got) == sorted(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(got[k], v)
        assert not got[k].flags.writeable and not got[k].flags.owndata, k
    job = Job(strategy="py-sequential", kind="onnx", rows=5, batch_size=2, layout=[], inputs=str(npz),
              feeds=[Feed(n, d, i, 0) for n, d, i in MULTI])
    feed = Feeds(job)[2:4]
    assert list(feed) == [n for n, _, _ in MULTI]
    np.testing.assert_array_equal(feed["ids"], arrays["ids"][2:4])
