import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
PKG = HERE.parent  # baselines/python
ROOT = PKG.parent.parent  # the repository
MODELS = ROOT / "training" / "models"
DATA = ROOT / "datasets" / "data"

DTYPES = {"int64": np.int64, "float32": np.float32}


class Client:
    """Speaks the runner's protocol, as ortbench does."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=str(PKG))
        self.p = subprocess.Popen([sys.executable, "-m", "ortbench_py.runner"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, cwd=str(PKG))

    def send(self, msg):
        self.p.stdin.write(json.dumps(msg).encode() + b"\n")
        self.p.stdin.flush()
        head = json.loads(self.p.stdout.readline())
        blocks = {}
        for b in head.get("blocks", []):
            dt = np.dtype(DTYPES[b["kind"]]).newbyteorder("<")
            raw = self.p.stdout.read(b["count"] * dt.itemsize)
            blocks[b["name"]] = np.frombuffer(raw, dtype=dt)
        return head, blocks

    def close(self):
        head, _ = self.send({"op": "quit"})
        assert head == {"ok": True, "op": "bye"}
        assert self.p.wait(timeout=60) == 0


@pytest.fixture
def client():
    c = Client()
    yield c
    if c.p.poll() is None:
        c.p.kill()
        c.p.wait()


def start_message(strategy, workload, batch_size, layout, **params):
    return {"op": "start", "strategy": strategy,
            "params": {"batch_size": batch_size, "workers": 1, "threads": 1, **params},
            "workload": workload, "session": {"graph_optimization": "all", "mem_arena": True, "mem_pattern": True},
            "layout": layout}


def breast_cancer(rows=100):
    import pyarrow.parquet as pq

    path = DATA / "breast_cancer.parquet"
    names = [n for n in pq.read_schema(path).names if n != "label"]
    workload = {"kind": "onnx", "model": str(MODELS / "logreg_breast_cancer.onnx"), "dataset": str(path),
                "features": names, "rows": rows, "width": len(names)}
    layout = [{"name": "label", "kind": "int64", "width": 1}, {"name": "probabilities", "kind": "float32", "width": 2}]
    return workload, layout


def heavy(items=20, cost=50):
    return ({"kind": "heavy-task", "rows": items, "cost": cost, "width": 1},
            [{"name": "checksum", "kind": "int64", "width": 1}])
