"""The cell runner ortbench drives: ``python -m ortbench_py.runner``.

Protocol (one cell per process). ortbench writes one JSON object per line on
stdin; the runner answers each with one JSON line on stdout, which a pass
reply follows with raw little-endian arrays:

    -> {"op": "start", "strategy": "py-pool", "params": {...},
        "workload": {...}, "session": {...}, "layout": [...]}
    <- {"ok": true, "op": "ready", "pid": ..., "python": {...}, "onnxruntime": {...}}
    -> {"op": "pass", "n": 8}
    <- {"ok": true, "op": "pass", "n": 8, "rows": 64,
        "blocks": [{"name": "latency_ns", "kind": "int64", "count": 8},
                   {"name": "label", "kind": "int64", "count": 64}, ...]}
       followed by the blocks' bytes, in that order
    -> {"op": "quit"}
    <- {"ok": true, "op": "bye"}

The workload of a model is its dataset ("dataset", "features": the rows'
feature columns, as Go resolved them) or ortbench's inputs file:
``"inputs": "/tmp/.../inputs.npz"`` (an uncompressed .npz, one array
[items, *item] per model input, written once per run by internal/npz) and
``"feeds": [{"name", "dtype", "item", "batch"}, ...]`` in model order (batch
0: free batch axis; N: fixed at N; -1: no batch axis, one item per call).
"rows" is then the item count. The layout lists the model's tensor outputs,
each sent as Go stores it: float32 for float32/float16/float64, int64 for
int64/int32/int8/uint8/bool, "width" values per item; outputs that are no
tensors (sequences, maps) are not in it and are never computed.

A failure is {"ok": false, "error": "...", "skip": false}; "skip": true says
the environment, not the cell, is at fault (a package is missing). Nothing
else may reach stdout: the runner moves fd 1 to a private descriptor and
points fd 1 at stderr before anything is imported, so stray prints and pool
workers cannot corrupt the protocol.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import sysconfig
import traceback


def python_info() -> dict:
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil() if gil else True,
        "executable": sys.executable,
    }


def ort_info() -> dict:
    import onnxruntime as ort

    capi = os.path.join(os.path.dirname(ort.__file__), "capi")
    libs = sorted(f for f in os.listdir(capi) if f.startswith("libonnxruntime.so"))
    return {
        "version": ort.__version__,
        "library": os.path.join(capi, libs[0]) if libs else capi,
    }


class Runner:
    def __init__(self, out):
        self.out = out
        self.strategy = None

    def reply(self, msg: dict, blocks=()) -> None:
        self.out.write(json.dumps(msg).encode() + b"\n")
        for b in blocks:
            self.out.write(memoryview(b).cast("B"))
        self.out.flush()

    def handle(self, msg: dict) -> bool:
        """Answers one message; False when the runner should exit."""
        op = msg.get("op")
        if op == "quit":
            self.close()
            self.reply({"ok": True, "op": "bye"})
            return False
        if op == "start":
            return self.start(msg)
        if op == "pass":
            return self.run_pass(int(msg["n"]))
        self.reply({"ok": False, "error": f"unknown op {op!r}"})
        return True

    def start(self, msg: dict) -> bool:
        try:
            import numpy  # noqa: F401
            import pyarrow  # noqa: F401

            info = {"python": python_info(), "onnxruntime": ort_info()}
        except ImportError as e:
            self.reply({"ok": False, "skip": True,
                        "error": f"{sys.executable}: {e} (create the environment with `make py-env`)"})
            return True
        from . import strategies
        from .work import Job

        if self.strategy is not None:
            self.reply({"ok": False, "error": "already started"})
            return True
        try:
            job = Job.from_message(msg)
            self.strategy = strategies.new(job)
            self.strategy.start()
        except Exception as e:
            self.reply({"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
            self.close()
            return True
        self.reply({"ok": True, "op": "ready", "pid": os.getpid(), **info})
        return True

    def run_pass(self, n: int) -> bool:
        s = self.strategy
        if s is None:
            self.reply({"ok": False, "error": "pass before start"})
            return True
        try:
            job = s.job
            if not 0 < n <= job.batches():
                raise ValueError(f"pass of {n} batches: want 1..{job.batches()}")
            lat = s.run_pass(n)
            rows = min(n * job.batch_size, job.rows)
            blocks = [lat] + [o[:rows * l.width] for o, l in zip(s.outputs(), job.layout)]
        except Exception as e:
            self.reply({"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
            return True
        head = [{"name": "latency_ns", "kind": "int64", "count": n}]
        head += [{"name": l.name, "kind": l.kind, "count": rows * l.width} for l in job.layout]
        self.reply({"ok": True, "op": "pass", "n": n, "rows": rows, "blocks": head},
                   [b.astype(b.dtype.newbyteorder("<"), copy=False) for b in blocks])
        return True

    def close(self) -> None:
        if self.strategy is not None:
            s, self.strategy = self.strategy, None
            s.close()


def main() -> int:
    # The protocol gets a private copy of stdout; fd 1 becomes stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from .linux import set_pdeathsig

    set_pdeathsig()
    r = Runner(out)
    try:
        for line in sys.stdin.buffer:
            if line.strip() and not r.handle(json.loads(line)):
                return 0
    finally:
        r.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
