"""The runner over its protocol, as ortbench drives it: every strategy must
give the same outputs as a direct onnxruntime run, batch by batch."""

import numpy as np
import onnxruntime as ort
import pytest

from conftest import Client, breast_cancer, heavy, start_message
from ortbench_py.heavy import heavy_item, to_int64
from ortbench_py.work import load_features

CELLS = [
    ("py-sequential", {}),
    ("py-intra-op", {"threads": 2}),
    ("py-threads", {"workers": 3}),
    ("py-asyncio", {"workers": 2}),
    ("py-pool", {"workers": 2, "start_method": "fork", "data": "pickle"}),
    ("py-pool", {"workers": 2, "start_method": "spawn", "data": "shared_memory"}),
    ("py-executor", {"workers": 2, "start_method": "forkserver", "data": "pickle"}),
    ("py-executor", {"workers": 2, "start_method": "fork", "data": "shared_memory"}),
]


def expected_breast_cancer(workload):
    x = load_features(workload["dataset"], workload["features"], workload["rows"], workload["width"])
    s = ort.InferenceSession(workload["model"], providers=["CPUExecutionProvider"])
    label, prob = s.run(["label", "probabilities"], {"input": x})
    return label, prob.reshape(-1)


def run_cell(client, strategy, params, workload, layout, batch_size, passes):
    head, _ = client.send(start_message(strategy, workload, batch_size, layout, **params))
    assert head["ok"], head
    assert head["op"] == "ready" and head["pid"] > 0
    assert head["onnxruntime"]["version"] == ort.__version__
    results = [client.send({"op": "pass", "n": n}) for n in passes]
    client.close()
    return head, results


@pytest.mark.parametrize("strategy,params", CELLS, ids=[f"{s}-{'-'.join(map(str, p.values()))}" for s, p in CELLS])
def test_model_outputs_match_onnxruntime(client, strategy, params):
    workload, layout = breast_cancer(rows=100)
    label, prob = expected_breast_cancer(workload)
    bs = 7  # 15 batches, the last one short
    _, results = run_cell(client, strategy, params, workload, layout, bs, [3, 15])
    (h3, b3), (h15, b15) = results
    assert h3["ok"] and h3["rows"] == 21 and h15["rows"] == 100
    assert [b["name"] for b in h15["blocks"]] == ["latency_ns", "label", "probabilities"]
    assert (b3["latency_ns"] > 0).all() and len(b3["latency_ns"]) == 3
    assert (b15["latency_ns"] > 0).all() and len(b15["latency_ns"]) == 15
    np.testing.assert_array_equal(b3["label"], label[:21])
    np.testing.assert_array_equal(b15["label"], label)
    np.testing.assert_allclose(b15["probabilities"], prob, rtol=0, atol=1e-6)


@pytest.mark.parametrize("strategy,params", [c for c in CELLS if c[0] != "py-intra-op"],
                         ids=[s for s, _ in CELLS if s != "py-intra-op"])
def test_heavy_task_matches_the_twin(client, strategy, params):
    workload, layout = heavy(items=23, cost=40)
    _, results = run_cell(client, strategy, params, workload, layout, 4, [6])
    head, blocks = results[0]
    assert head["ok"] and head["rows"] == 23
    want = [to_int64(heavy_item(i, 40)) for i in range(23)]
    assert blocks["checksum"].tolist() == want


def test_python_build_is_reported(client):
    workload, layout = heavy(items=4, cost=1)
    head, _ = run_cell(client, "py-sequential", {}, workload, layout, 2, [2])
    py = head["python"]
    assert py["implementation"] and py["version"].count(".") == 2
    assert isinstance(py["free_threaded"], bool) and isinstance(py["gil_enabled"], bool)
    assert head["onnxruntime"]["library"]


def test_errors_are_replies_not_crashes(client):
    head, _ = client.send({"op": "pass", "n": 1})
    assert not head["ok"] and "before start" in head["error"]
    workload, layout = heavy(items=4, cost=1)
    head, _ = client.send(start_message("py-nope", workload, 2, layout))
    assert not head["ok"] and "unknown Python strategy" in head["error"] and not head.get("skip")
    head, _ = client.send(start_message("py-sequential", workload, 2, layout))
    assert head["ok"]
    head, _ = client.send({"op": "pass", "n": 3})
    assert not head["ok"] and "want 1..2" in head["error"]
    head, blocks = client.send({"op": "pass", "n": 2})
    assert head["ok"] and len(blocks["checksum"]) == 4
    client.close()


def test_bad_model_path_fails_start(client):
    workload, layout = breast_cancer(rows=10)
    workload["model"] = "/nonexistent.onnx"
    head, _ = client.send(start_message("py-sequential", workload, 2, layout))
    assert not head["ok"] and head["traceback"]
    client.close()
