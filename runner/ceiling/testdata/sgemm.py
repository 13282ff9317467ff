"""numpy's float32 GEMM at the ceiling model's sizes: an independent check
of ortbench's measured ceiling (BenchmarkCeilingVsNumpy runs it).

Threads are fixed by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before numpy is
imported; prints one JSON line {"threads", "gflops", "median_gflops", "blas"}.
Usage: OPENBLAS_NUM_THREADS=T python sgemm.py BATCH K N SECONDS TRIALS
"""
import json
import os
import sys
import time

import numpy as np

batch, k, n = (int(a) for a in sys.argv[1:4])
seconds, trials = float(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, (batch, k)).astype(np.float32)
w = rng.uniform(-1, 1, (k, n)).astype(np.float32)
out = np.empty((batch, n), dtype=np.float32)
flops = 2 * batch * k * n
for _ in range(3):
    np.matmul(x, w, out=out)
rates = []
for _ in range(trials):
    runs, t0 = 0, time.perf_counter()
    while runs == 0 or time.perf_counter() - t0 < seconds / trials:
        np.matmul(x, w, out=out)
        runs += 1
    rates.append(runs * flops / (time.perf_counter() - t0) / 1e9)
rates.sort()
blas = ""
try:
    cfg = np.show_config(mode="dicts")
    blas = cfg["Build Dependencies"]["blas"]["name"] + " " + cfg["Build Dependencies"]["blas"].get("version", "")
except Exception:  # older numpy: no dict mode
    pass
print(json.dumps({
    "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
    "gflops": rates[-1],
    "median_gflops": rates[len(rates) // 2],
    "blas": blas.strip(),
}))
