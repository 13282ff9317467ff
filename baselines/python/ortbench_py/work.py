"""What a strategy runs: the ONNX model over the dataset, or the heavy task.

A :class:`Job` is the start message ortbench sends, decoded. A :class:`Work`
is one executor of it: for the model, one InferenceSession; for the heavy
task, nothing. ``Work.run(start, n, xb)`` processes rows ``start..start+n-1``
(``xb`` is those rows' features, or None for the heavy task) and returns one
flat array per output, in ortbench's layout order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .heavy import heavy_item

DTYPES = {"int64": np.int64, "float32": np.float32}


@dataclass
class Output:
    name: str
    kind: str  # "int64" | "float32"
    width: int

    @property
    def dtype(self):
        return DTYPES[self.kind]


@dataclass
class Job:
    """One cell, as ortbench describes it in the start message."""

    strategy: str
    kind: str  # "onnx" | "heavy-task"
    rows: int
    batch_size: int
    layout: list[Output]
    workers: int = 1
    threads: int = 1
    start_method: str = "fork"
    data: str = "pickle"
    spinning: bool = False
    model: str = ""
    dataset: str = ""
    features: list[str] = field(default_factory=list)
    width: int = 1
    cost: int = 0
    graph_optimization: str = "all"
    mem_arena: bool = True
    mem_pattern: bool = True
    # raw is the start message itself, handed on to worker processes.
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_message(cls, msg: dict) -> "Job":
        p, w, s = msg.get("params", {}), msg["workload"], msg.get("session", {})
        return cls(
            strategy=msg["strategy"],
            kind=w["kind"],
            rows=int(w["rows"]),
            batch_size=int(p["batch_size"]),
            layout=[Output(o["name"], o["kind"], int(o["width"])) for o in msg["layout"]],
            workers=int(p.get("workers") or 1),
            threads=int(p.get("threads") or 1),
            start_method=p.get("start_method") or "fork",
            data=p.get("data") or "pickle",
            spinning=bool(p.get("spinning", False)),
            model=w.get("model", ""),
            dataset=w.get("dataset", ""),
            features=list(w.get("features") or []),
            width=int(w.get("width") or 1),
            cost=int(w.get("cost") or 0),
            graph_optimization=s.get("graph_optimization") or "all",
            mem_arena=bool(s.get("mem_arena", True)),
            mem_pattern=bool(s.get("mem_pattern", True)),
            raw=msg,
        )

    @property
    def onnx(self) -> bool:
        return self.kind == "onnx"

    def batches(self) -> int:
        return (self.rows + self.batch_size - 1) // self.batch_size

    def span(self, i: int) -> tuple[int, int]:
        """Batch i's first row and row count."""
        start = i * self.batch_size
        return start, min(self.batch_size, self.rows - start)

    def alloc_outputs(self) -> list[np.ndarray]:
        return [np.zeros(self.rows * o.width, dtype=o.dtype) for o in self.layout]


def load_features(path: str, features: list[str], rows: int, width: int) -> np.ndarray:
    """Reads rows x width float32 features from a Parquet or Arrow IPC file.

    ortbench resolves the feature columns (names, globs, "every numeric column
    but the label") and passes their names, so both sides read the same
    columns. A file whose features live in one fixed_size_list column has no
    such named columns: then the one numeric fixed_size_list column of the
    right width is read. Only those columns and the first `rows` rows are
    read, so the process holds no more of the file than it uses.
    """
    import pyarrow as pa

    schema = _schema(path)
    named = bool(features) and all(f in schema.names for f in features)
    if named:
        if len(features) != width:
            raise ValueError(f"{path}: {len(features)} feature names for width {width}")
        cols = list(features)
    else:
        tensors = [f.name for f in schema if pa.types.is_fixed_size_list(f.type) and f.type.list_size == width]
        if len(tensors) != 1:
            raise ValueError(
                f"{path}: cannot find the feature columns {features[:3]}... "
                f"nor exactly one fixed_size_list column of width {width} (have {schema.names})")
        cols = tensors
    table = _read(path, cols, rows)
    if table.num_rows < rows:
        raise ValueError(f"{path}: {table.num_rows} rows, ortbench asked for {rows}")
    table = table.slice(0, rows)
    x = np.empty((rows, width), dtype=np.float32)
    if named:
        for j, f in enumerate(cols):
            x[:, j] = _numeric(table.column(f))
    else:
        x[:] = _numeric(table.column(cols[0]).combine_chunks().flatten()).reshape(rows, width)
    return x


def _schema(path: str):
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    ext = os.path.splitext(path)[1].lower()
    if ext == ".parquet":
        return pq.read_schema(path)
    with open(path, "rb") as f:
        return (ipc.open_stream(f) if ext == ".arrows" else ipc.open_file(f)).schema


def _read(path: str, cols: list[str], rows: int):
    """The first `rows` rows (or a few more) of the columns cols."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    ext = os.path.splitext(path)[1].lower()
    if ext == ".parquet":
        pf = pq.ParquetFile(path)
        batches, got = [], 0
        for b in pf.iter_batches(batch_size=min(max(rows, 1), 1 << 16), columns=cols):
            batches.append(b)
            got += b.num_rows
            if got >= rows:
                break
        if not batches:
            return pf.schema_arrow.empty_table().select(cols)
        return pa.Table.from_batches(batches)
    with open(path, "rb") as f:
        if ext == ".arrows":
            return ipc.open_stream(f).read_all().select(cols)
        return ipc.open_file(f).read_all().select(cols)


def _numeric(col) -> np.ndarray:
    """A numeric Arrow column as float32; nulls read as NaN (as in Go)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.null_count:
        col = pc.fill_null(col.cast(pa.float64()), float("nan"))
    return col.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)


GRAPH_LEVELS = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def open_session(job: Job, intra_threads: int):
    """One InferenceSession with the cell's options (as the Go side sets them)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = intra_threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_LEVELS[job.graph_optimization])
    so.enable_cpu_mem_arena = job.mem_arena
    so.enable_mem_pattern = job.mem_pattern
    spin = "1" if job.spinning else "0"
    so.add_session_config_entry("session.intra_op.allow_spinning", spin)
    so.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return ort.InferenceSession(job.model, so, providers=["CPUExecutionProvider"])


class Work:
    """One executor: a session (model) or nothing (heavy task).

    ``run`` is safe to call from several threads at once when they share one
    Work: InferenceSession.run is thread-safe and releases the GIL.
    """

    def __init__(self, job: Job, intra_threads: int = 1):
        self.job = job
        self.names = [o.name for o in job.layout]
        self.dtypes = [o.dtype for o in job.layout]
        self.session = None
        if job.onnx:
            self.session = open_session(job, intra_threads)
            got = [o.name for o in self.session.get_outputs()]
            missing = [n for n in self.names if n not in got]
            if missing:
                raise ValueError(f"{job.model}: outputs {missing} not in the model (has {got})")
            self.input = self.session.get_inputs()[0].name

    def run(self, start: int, n: int, xb) -> list[np.ndarray]:
        if self.session is None:
            cost = self.job.cost
            vals = [heavy_item(s, cost) for s in range(start, start + n)]
            return [np.array(vals, dtype=np.uint64).view(np.int64)]
        res = self.session.run(self.names, {self.input: xb})
        return [np.asarray(r, dtype=d).reshape(-1) for r, d in zip(res, self.dtypes)]


def store(job: Job, outs: list[np.ndarray], start: int, n: int, res: list[np.ndarray]) -> None:
    """Writes one batch's results into the pass's outputs at its rows."""
    for o, dst, r in zip(job.layout, outs, res):
        dst[start * o.width:(start + n) * o.width] = r
