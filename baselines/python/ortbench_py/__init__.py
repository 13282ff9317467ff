"""ortbench's Python baseline: one benchmark cell run by Python strategies.

ortbench (Go) starts ``python -m ortbench_py.runner`` once per cell and drives
it over stdin/stdout (see :mod:`ortbench_py.runner` for the protocol). The
Python side loads the model and the dataset itself, runs warm-up and measured
passes with one of the strategies in :mod:`ortbench_py.strategies`, and sends
back per-batch latencies and the outputs; ortbench measures wall time, CPU and
memory of the whole process tree and verifies the outputs like any other cell.
"""
