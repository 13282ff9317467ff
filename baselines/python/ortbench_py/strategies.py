"""The Python strategies, one class each, named as in ortbench configs.

Every strategy has the same life: ``start()`` once (load data, create sessions
and workers: ortbench times it as start-up), ``run_pass(n)`` many times
(batches 0..n-1, each exactly once; returns per-batch latencies in ns, -1 for
a batch never processed), ``outputs()`` (the pass's results, by row) and
``close()``.

A batch's latency is the time its executor spent on it — inference plus
writing its outputs — as in the Go strategies; queueing and inter-process
transport are not in it, but they are in the pass's wall time, which ortbench
measures from outside.

Note: tasks are one batch each, handed out the way each API is normally used —
``ThreadPoolExecutor.map``, ``Pool.imap_unordered`` with ``Pool.map``'s default
chunk size, ``ProcessPoolExecutor.map`` with its default chunk size of 1 — so
the per-task overhead of each API is part of what is measured.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import math
import multiprocessing as mp
import os
import time
from multiprocessing import shared_memory

import numpy as np

from .linux import set_pdeathsig
from .work import Feeds, Job, Work, load_features, store

now = time.perf_counter_ns

# How long pool workers may take to start and open their sessions.
READY_TIMEOUT_S = 300


class Strategy:
    def __init__(self, job: Job):
        self.job = job
        self.outs: list[np.ndarray] = []

    def start(self) -> None:
        raise NotImplementedError

    def run_pass(self, n: int) -> np.ndarray:
        raise NotImplementedError

    def outputs(self) -> list[np.ndarray]:
        return self.outs

    def close(self) -> None:
        pass


def new_latencies(n: int) -> np.ndarray:
    return np.full(n, -1, dtype=np.int64)


def mark(lat: np.ndarray, i: int, ns: int) -> None:
    if lat[i] != -1:
        raise RuntimeError(f"batch {i} processed twice")
    lat[i] = ns


def load_x(job: Job):
    """What batches are sliced from: the features, the .npz's Feeds, or None."""
    if not job.onnx:
        return None
    if job.inputs:
        return Feeds(job)
    return load_features(job.dataset, job.features, job.rows, job.width)


# --- in one process -------------------------------------------------------


class InProcess(Strategy):
    """One Work (session) in this process; subclasses decide who calls it."""

    def intra_threads(self) -> int:
        return 1

    def start(self) -> None:
        self.x = load_x(self.job)
        self.work = Work(self.job, self.intra_threads())
        self.outs = self.job.alloc_outputs()

    def batch(self, i: int, lat: np.ndarray) -> None:
        start, n = self.job.span(i)
        xb = None if self.x is None else self.x[start:start + n]
        t0 = now()
        res = self.work.run(start, n, xb)
        store(self.job, self.outs, start, n, res)
        mark(lat, i, now() - t0)


class Sequential(InProcess):
    """py-sequential: a plain loop, one session, 1 intra-op thread."""

    def run_pass(self, n: int) -> np.ndarray:
        lat = new_latencies(n)
        for i in range(n):
            self.batch(i, lat)
        return lat


class IntraOp(Sequential):
    """py-intra-op: a plain loop, one session with T intra-op threads."""

    def intra_threads(self) -> int:
        return self.job.threads


class Threads(InProcess):
    """py-threads: ThreadPoolExecutor(N) over ONE shared InferenceSession.

    ORT releases the GIL inside run(), so inference overlaps; the Python code
    around it (slicing, copying outputs) takes turns on the GIL.
    """

    def intra_threads(self) -> int:
        return self.job.threads

    def start(self) -> None:
        super().start()
        self.ex = cf.ThreadPoolExecutor(self.job.workers, thread_name_prefix="py-threads")

    def run_pass(self, n: int) -> np.ndarray:
        lat = new_latencies(n)
        for _ in self.ex.map(lambda i: self.batch(i, lat), range(n)):
            pass
        return lat

    def close(self) -> None:
        self.ex.shutdown(wait=True)


class Asyncio(InProcess):
    """py-asyncio: an event loop that awaits loop.run_in_executor for every
    batch, over a ThreadPoolExecutor(N) sharing one session."""

    def start(self) -> None:
        super().start()
        self.loop = asyncio.new_event_loop()
        self.ex = cf.ThreadPoolExecutor(self.job.workers, thread_name_prefix="py-asyncio")
        self.loop.set_default_executor(self.ex)

    async def _pass(self, n: int, lat: np.ndarray) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, self.batch, i, lat) for i in range(n)))

    def run_pass(self, n: int) -> np.ndarray:
        lat = new_latencies(n)
        self.loop.run_until_complete(self._pass(n, lat))
        return lat

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


# --- in worker processes --------------------------------------------------

# A worker process's state, set by worker_init.
_W: dict = {}


def worker_init(job_msg: dict, shm_names: list[str] | None, ready) -> None:
    set_pdeathsig()
    job = Job.from_message(job_msg)
    _W["job"] = job
    _W["work"] = Work(job, 1)
    _W["x"], _W["outs"], _W["shm"] = None, None, []
    if shm_names is not None:
        x, outs, shms = attach(job, shm_names)
        if job.inputs:
            x = Feeds(job)  # the same file, mapped: shared through the page cache
        _W["x"], _W["outs"], _W["shm"] = x, outs, shms
    ready.release()


def task_pickle(args):
    """One batch whose rows arrive pickled; its outputs go back pickled."""
    i, start, n, xb = args
    t0 = now()
    res = _W["work"].run(start, n, xb)
    return i, now() - t0, res


def task_shared(i: int):
    """One batch read from and written to shared memory; only i travels."""
    job = _W["job"]
    start, n = job.span(i)
    x = _W["x"]
    xb = None if x is None else x[start:start + n]
    t0 = now()
    res = _W["work"].run(start, n, xb)
    store(job, _W["outs"], start, n, res)
    return i, now() - t0


def ping(_):
    return None


def shm_name(k: int) -> str:
    """Block k's name: the runner's pid in it lets ortbench remove what a
    killed runner leaves in /dev/shm (ortbench-PID-K)."""
    return f"ortbench-{os.getpid()}-{k}"


def shm_layout(job: Job) -> list[tuple[tuple[int, ...], type]]:
    """The shared blocks: the features (tabular model only), then each output."""
    blocks = []
    if job.tabular:
        blocks.append(((job.rows, job.width), np.float32))
    blocks += [((job.rows * o.width,), o.dtype) for o in job.layout]
    return blocks


def attach(job: Job, names: list[str]):
    shms, arrays = [], []
    for name, (shape, dtype) in zip(names, shm_layout(job)):
        s = shared_memory.SharedMemory(name=name)
        shms.append(s)
        arrays.append(np.ndarray(shape, dtype=dtype, buffer=s.buf))
    x = arrays.pop(0) if job.tabular else None
    return x, arrays, shms


class Processes(Strategy):
    """N worker processes, each with its own session (1 intra-op thread).

    data=pickle: each task carries its batch's rows and brings its outputs
    back, both pickled. data=shared_memory: the features and the outputs live
    in multiprocessing.shared_memory blocks every worker maps; a task carries
    only the batch index. Inputs from an .npz are not copied into a block:
    every worker maps the file itself (one copy, in the page cache).
    """

    def start(self) -> None:
        job = self.job
        ctx = mp.get_context(job.start_method)
        self.shms: list[shared_memory.SharedMemory] = []
        names = None
        if job.data == "shared_memory":
            for k, (shape, dtype) in enumerate(shm_layout(job)):
                size = max(1, math.prod(shape) * np.dtype(dtype).itemsize)
                self.shms.append(shared_memory.SharedMemory(name=shm_name(k), create=True, size=size))
            names = [s.name for s in self.shms]
            self.x, self.outs, _ = attach_local(job, self.shms)
            if self.x is not None:
                self.x[:] = load_x(job)  # the only copy: the loaded table is dropped
            elif job.inputs:
                self.x = load_x(job)  # the .npz, mapped (workers map it too)
        else:
            self.x = load_x(job)
            self.outs = job.alloc_outputs()
        ready = ctx.Semaphore(0)
        self.open(ctx, (job.raw, names, ready))
        for k in range(job.workers):
            if not ready.acquire(timeout=READY_TIMEOUT_S):
                raise RuntimeError(f"only {k} of {job.workers} workers started in {READY_TIMEOUT_S}s")

    def tasks(self, n: int):
        if self.job.data == "shared_memory":
            return task_shared, range(n)

        def gen():
            for i in range(n):
                start, c = self.job.span(i)
                yield i, start, c, None if self.x is None else self.x[start:start + c]

        return task_pickle, gen()

    def run_pass(self, n: int) -> np.ndarray:
        lat = new_latencies(n)
        fn, items = self.tasks(n)
        for r in self.map(fn, items, n):
            mark(lat, r[0], r[1])
            if len(r) > 2:
                start, c = self.job.span(r[0])
                store(self.job, self.outs, start, c, r[2])
        return lat

    def close(self) -> None:
        self.shutdown()
        for s in self.shms:
            s.close()
            s.unlink()
        self.shms = []


def attach_local(job: Job, shms):
    arrays = [np.ndarray(shape, dtype=dtype, buffer=s.buf) for s, (shape, dtype) in zip(shms, shm_layout(job))]
    x = arrays.pop(0) if job.tabular else None
    return x, arrays, shms


class Pool(Processes):
    """py-pool: multiprocessing.Pool, imap_unordered with Pool.map's chunk size."""

    def open(self, ctx, initargs) -> None:
        self.pool = ctx.Pool(self.job.workers, initializer=worker_init, initargs=initargs)

    def map(self, fn, items, n):
        chunk, extra = divmod(n, self.job.workers * 4)
        return self.pool.imap_unordered(fn, items, chunksize=max(1, chunk + bool(extra)))

    def shutdown(self) -> None:
        if getattr(self, "pool", None) is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


class Executor(Processes):
    """py-executor: concurrent.futures.ProcessPoolExecutor, map with its
    default chunk size (1)."""

    def open(self, ctx, initargs) -> None:
        self.ex = cf.ProcessPoolExecutor(self.job.workers, mp_context=ctx, initializer=worker_init, initargs=initargs)
        # Workers start on demand: one task each makes them all start.
        for f in [self.ex.submit(ping, k) for k in range(self.job.workers)]:
            f.result()

    def map(self, fn, items, n):
        return self.ex.map(fn, items)

    def shutdown(self) -> None:
        if getattr(self, "ex", None) is not None:
            self.ex.shutdown(wait=True)
            self.ex = None


STRATEGIES = {
    "py-sequential": Sequential,
    "py-intra-op": IntraOp,
    "py-threads": Threads,
    "py-asyncio": Asyncio,
    "py-pool": Pool,
    "py-executor": Executor,
}


def new(job: Job) -> Strategy:
    try:
        cls = STRATEGIES[job.strategy]
    except KeyError:
        raise ValueError(f"unknown Python strategy {job.strategy!r} (valid: {', '.join(sorted(STRATEGIES))})") from None
    return cls(job)
