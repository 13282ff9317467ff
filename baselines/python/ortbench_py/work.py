"""What a strategy runs: the ONNX model over the dataset or over ortbench's
inputs file, or the heavy task.

A :class:`Job` is the start message ortbench sends, decoded. A :class:`Work`
is one executor of it: for the model, one InferenceSession; for the heavy
task, nothing. ``Work.run(start, n, xb)`` processes items ``start..start+n-1``
(``xb`` is those rows' features, the feed dict of those items when the
inputs come from an .npz (:class:`Feeds`), or None for the heavy task) and
returns one flat array per output, in ortbench's layout order.
"""

from __future__ import annotations

import mmap
import os
import struct
import zipfile
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
class Feed:
    """One model input fed from the .npz (onnx.Feed on the Go side)."""

    name: str
    dtype: str  # "float32" | "float16" | "float64" | "int64" | "int32" | "int8" | "uint8" | "bool"
    item: tuple[int, ...]  # one item's dimensions
    batch: int  # 0: free batch axis; N > 0: fixed at N; -1: no batch axis


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
    inputs: str = ""  # the .npz of every input (then dataset and features are unused)
    feeds: list[Feed] = field(default_factory=list)
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
            inputs=w.get("inputs") or "",
            feeds=[Feed(f["name"], f["dtype"], tuple(int(d) for d in f.get("item") or ()), int(f.get("batch") or 0))
                   for f in w.get("feeds") or []],
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

    @property
    def tabular(self) -> bool:
        """The model's one input is read from the dataset's columns."""
        return self.onnx and not self.inputs

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


NPY_DTYPES = {"float32": "<f4", "float16": "<f2", "float64": "<f8", "int64": "<i8",
              "int32": "<i4", "int8": "|i1", "uint8": "|u1", "bool": "|b1"}
ORT_TYPES = {"float32": "tensor(float)", "float16": "tensor(float16)", "float64": "tensor(double)",
             "int64": "tensor(int64)", "int32": "tensor(int32)", "int8": "tensor(int8)",
             "uint8": "tensor(uint8)", "bool": "tensor(bool)"}


def read_npz(path: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz by name. A stored member (as ortbench's Go writer
    and numpy.savez write them) is mapped read-only from the file, so the
    process holds only the pages it touches and worker processes share them
    through the page cache; a compressed member is read."""
    from numpy.lib import format as npf

    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else None
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with zf.open(info) as m:
                    out[name] = npf.read_array(m, allow_pickle=False)
                continue
            f.seek(info.header_offset)
            local = f.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: member {info.filename!r}: no local zip header")
            nlen, elen = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + nlen + elen)
            version = npf.read_magic(f)
            read_header = npf.read_array_header_1_0 if version == (1, 0) else npf.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            if fortran or dtype.hasobject:
                raise ValueError(f"{path}: member {info.filename!r}: Fortran order or objects; ortbench writes C-order numbers")
            count = int(np.prod(shape, dtype=np.int64))
            out[name] = np.frombuffer(mm, dtype=dtype, count=count, offset=f.tell()).reshape(shape)
    return out


class Feeds:
    """The model's inputs from ortbench's .npz, each array [items, *item].

    ``feeds[start:start + n]`` is the feed dict of one call of items
    start..start+n-1 (sliced like the tabular features, so strategies treat
    both alike): views, no copies. An input without a batch axis (batch -1)
    gets its item ``start`` with the items axis stripped, as the Go side
    feeds it; then every call is one item.
    """

    def __init__(self, job: Job):
        path = job.inputs
        arrays = read_npz(path)
        self.batched, self.single = [], []
        for f in job.feeds:
            a = arrays.get(f.name)
            if a is None:
                raise ValueError(f"{path}: no array for input {f.name!r} (has {sorted(arrays)})")
            want = (job.rows, *f.item)
            if a.dtype.str != NPY_DTYPES[f.dtype] or a.ndim == 0 or a.shape[0] < job.rows or a.shape[1:] != f.item:
                raise ValueError(f"{path}: input {f.name!r} is {a.dtype.str} {a.shape}, want {NPY_DTYPES[f.dtype]} {want}")
            a = a[:job.rows]
            if f.batch == -1:
                self.single.append((f.name, a))
            else:
                self.batched.append((f.name, a))
            if f.batch == -1 and job.batch_size != 1:
                raise ValueError(f"input {f.name!r} has no batch axis (one call = one item): batch size {job.batch_size}, want 1")
            if f.batch > 0 and (job.batch_size != f.batch or job.rows % f.batch):
                raise ValueError(f"input {f.name!r}: the model fixes the batch at {f.batch}: "
                                 f"batch size {job.batch_size} and {job.rows} items, want {f.batch} and a multiple of it")

    def __getitem__(self, s: slice) -> dict:
        # A plain loop: cheaper per call than a comprehension on 3.11.
        feed = {}
        for k, a in self.batched:
            feed[k] = a[s]
        if self.single:
            for k, a in self.single:
                feed[k] = a[s.start]
        return feed


def check_model(job: Job, session) -> None:
    """The model takes exactly the feeds, in order and of their dtypes, and
    every layout output is one of its tensor outputs."""
    got = [(i.name, i.type) for i in session.get_inputs()]
    want = [(f.name, ORT_TYPES[f.dtype]) for f in job.feeds]
    if got != want:
        raise ValueError(f"{job.model}: inputs {got}, ortbench feeds {want}")
    types = {o.name: o.type for o in session.get_outputs()}
    odd = [o.name for o in job.layout if not types.get(o.name, "tensor(").startswith("tensor(")]
    if odd:
        raise ValueError(f"{job.model}: outputs {odd} are not tensors ({[types[n] for n in odd]}); ortbench leaves them out")


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
            if job.inputs:
                check_model(job, self.session)

    def run(self, start: int, n: int, xb) -> list[np.ndarray]:
        if self.session is None:
            cost = self.job.cost
            vals = [heavy_item(s, cost) for s in range(start, start + n)]
            return [np.array(vals, dtype=np.uint64).view(np.int64)]
        # xb is a feed dict for inputs from an .npz, the features otherwise.
        res = self.session.run(self.names, xb if self.job.inputs else {self.input: xb})
        return [np.asarray(r, dtype=d).reshape(-1) for r, d in zip(res, self.dtypes)]


def store(job: Job, outs: list[np.ndarray], start: int, n: int, res: list[np.ndarray]) -> None:
    """Writes one batch's results into the pass's outputs at its rows."""
    for o, dst, r in zip(job.layout, outs, res):
        if r.size != n * o.width:
            raise ValueError(f"output {o.name!r}: {r.size} values for {n} items, ortbench expects {o.width} per item")
        dst[start * o.width:(start + n) * o.width] = r
