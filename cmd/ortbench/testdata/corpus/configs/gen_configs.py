#!/usr/bin/env python3
"""Writes the hostile configs of the corpus (cases.txt, "configs" section).

Each is a small experiment file with one thing wrong. The huge ones (tens of
thousands of keys, 2000 levels deep, 2 MiB) are not committed: corpus_test.go
generates them into a temporary folder ({gen:…} in cases.txt).
Run from this folder: python3 gen_configs.py
"""

HEAVY = """workload:
  kind: heavy-task
  items: 4
  cost: 10
batch_sizes: [1]
warmup_batches: 0
repetitions: 1
min_duration: 1ms
"""

ONNX = """workload:
  model: ../models/ok4.onnx
  dataset:
    path: ../datasets/good.parquet
batch_sizes: [8]
warmup_batches: 0
repetitions: 1
min_duration: 1ms
"""

SEQ = "strategies:\n  - strategy: sequential\n"


def strat(body):
    return "strategies:\n" + body


CASES = {
    "ok_heavy": HEAVY + SEQ,
    # --- numbers that would change meaning ---
    "workers_fraction": HEAVY + strat("  - strategy: goroutines\n    workers: 1.5\n"),
    "workers_fraction_list": HEAVY + strat("  - strategy: goroutines\n    workers: [1, 2.5]\n"),
    "repetitions_fraction": HEAVY.replace("repetitions: 1", "repetitions: 1.5") + SEQ,
    "min_duration_no_unit": HEAVY.replace("min_duration: 1ms", "min_duration: 5") + SEQ,
    "sample_interval_no_unit": HEAVY + "sample_interval: 100\n" + SEQ,
    "workers_huge": HEAVY + strat("  - strategy: goroutines\n    workers: 99999999999999999999\n"),
    "workers_exp": HEAVY + strat("  - strategy: goroutines\n    workers: 1e300\n"),
    "workers_negative": HEAVY + strat("  - strategy: goroutines\n    workers: -1\n"),
    "workers_nan": HEAVY + strat("  - strategy: goroutines\n    workers: .nan\n"),
    "warmup_huge": HEAVY.replace("warmup_batches: 0", "warmup_batches: 1000000000") + SEQ,
    "warmup_negative": HEAVY.replace("warmup_batches: 0", "warmup_batches: -3") + SEQ,
    "repetitions_huge": HEAVY.replace("repetitions: 1", "repetitions: 1000000") + SEQ,
    "repetitions_zero": HEAVY.replace("repetitions: 1", "repetitions: 0") + SEQ,
    "rows_negative": HEAVY.replace("cost: 10", "cost: 10\n  rows: -5") + SEQ,
    "min_duration_huge": HEAVY.replace("min_duration: 1ms", "min_duration: 1000h") + SEQ,
    "min_duration_negative": HEAVY.replace("min_duration: 1ms", "min_duration: -1s") + SEQ,
    "sample_interval_zero": HEAVY + "sample_interval: 0s\n" + SEQ,
    "sample_interval_huge": HEAVY + "sample_interval: 2h\n" + SEQ,
    "batch_size_huge": HEAVY.replace("batch_sizes: [1]", "batch_sizes: [100000000]") + SEQ,
    "batch_size_zero": HEAVY.replace("batch_sizes: [1]", "batch_sizes: [0]") + SEQ,
    "items_huge": HEAVY.replace("items: 4", "items: 1000000000") + SEQ,
    "unstable_spread_nan": HEAVY + "unstable_spread: .nan\n" + SEQ,
    "unstable_spread_huge": HEAVY + "unstable_spread: 1e9\n" + SEQ,
    "queue_depth_zero": HEAVY + strat("  - strategy: pipeline\n    workers: 2\n    queue_depth: 0\n"),
    "queue_depth_memory": ONNX + strat("  - strategy: pipeline\n    workers: 1\n    queue_depth: 4000000000000\n"),
    # --- limits that fit the machine ---
    "workers_100000": HEAVY + strat("  - strategy: goroutines\n    workers: 100000\n"),
    "worker_pool_100000": HEAVY + strat("  - strategy: worker-pool\n    workers: 100000\n"),
    "threads_10000": ONNX + strat("  - strategy: intra-op\n    threads: 10000\n"),
    "inter_op_5000": ONNX + strat("  - strategy: inter-op\n    inter_op_threads: 5000\n"),
    "hybrid_product": ONNX + strat("  - strategy: hybrid\n    workers: 32\n    threads: 32\n"),
    "processes_1000": HEAVY + strat("  - strategy: processes\n    workers: 1000\n"),
    "py_threads_100000": ONNX + strat("  - strategy: py-threads\n    workers: 100000\n"),
    "oversubscribe_allows": ONNX + "oversubscribe: 32\n" + strat("  - strategy: hybrid\n    workers: 4\n    threads: 4\n"),
    "oversubscribe_ceiling": ONNX + "oversubscribe: 1000\n" + SEQ,
    "oversubscribe_zero": ONNX + "oversubscribe: 0\n" + SEQ,
    "oversubscribe_fraction": ONNX + "oversubscribe: 1.5\n" + SEQ,
    "oversubscribe_max_threads": ONNX + "oversubscribe: 64\n" + strat("  - strategy: intra-op\n    threads: 100000\n"),
    "sweep_explosion": ONNX + strat("  - strategy: goroutines\n    workers: [%s]\n    threads: [%s]\n" % (
        ", ".join(str(i) for i in range(1, 41)), ", ".join(str(i) for i in range(1, 41)))),
    # --- NaN / Inf tolerance ---
    "tolerance_nan": HEAVY + SEQ + "verify:\n  tolerance: .nan\n",
    "tolerance_inf": HEAVY + SEQ + "verify:\n  tolerance: .inf\n",
    "tolerance_negative": HEAVY + SEQ + "verify:\n  tolerance: -0.5\n",
    "tolerance_string": HEAVY + SEQ + "verify:\n  tolerance: tight\n",
    # --- names and paths: nothing outside output.dir ---
    "name_escape": 'name: "../../escaped"\n' + HEAVY + SEQ,
    "name_slash": 'name: "a/b"\n' + HEAVY + SEQ,
    "name_nul": 'name: "a\\0b"\n' + HEAVY + SEQ,
    "name_dotdot": 'name: ".."\n' + HEAVY + SEQ,
    "name_control": 'name: "a\\tb"\n' + HEAVY + SEQ,
    "name_backslash": 'name: "a\\\\b"\n' + HEAVY + SEQ,
    "name_long": "name: " + "x" * 300 + "\n" + HEAVY + SEQ,
    "output_dir_nul": HEAVY + SEQ + 'output:\n  dir: "res\\0ults"\n',
    "output_dir_is_file": HEAVY + SEQ + "output:\n  dir: /dev/null\n",
    "output_dir_under_file": HEAVY + SEQ + "output:\n  dir: /dev/null/results\n",
    "output_dir_readonly": HEAVY + SEQ + "output:\n  dir: /proc/1/ortbench-results\n",
    "output_dir_empty": HEAVY + SEQ + 'output:\n  dir: ""\n',
    "expected_missing": ONNX + SEQ + "verify:\n  expected: nope.parquet\n",
    "expected_dir": ONNX + SEQ + "verify:\n  expected: .\n",
    "expected_nul": ONNX + SEQ + 'verify:\n  expected: "a\\0b.parquet"\n',
    # --- shape of the file ---
    "unknown_key": HEAVY + SEQ + "zzz: 1\n",
    "unknown_key_typo": HEAVY + SEQ + "repetiions: 3\n",
    "unknown_nested": HEAVY + SEQ + "session:\n  spining: true\n",
    "unknown_many": HEAVY + SEQ + "".join("k%d: 1\n" % i for i in range(50)),
    "deep_20": HEAVY + SEQ + "x: " + "{a: " * 20 + "1" + "}" * 20 + "\n",
    "deep_in_strategy": HEAVY + strat("  - strategy: goroutines\n    workers: " + "[" * 20 + "1" + "]" * 20 + "\n"),
    "not_mapping": "- a\n- b\n",
    "scalar_file": "just a string\n",
    "empty_file": "",
    "not_yaml": "workload: [\n",
    "tab_indent": "workload:\n\tkind: heavy-task\n",
    "duplicate_key": HEAVY + "repetitions: 2\n" + SEQ,
    "alias_bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
                  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n" + HEAVY + SEQ,
    "binary_garbage": "\x00\x01\x02\xff\xfe" * 20,
    # --- empty lists and wrong types ---
    "empty_strategies": HEAVY + "strategies: []\n",
    "no_strategies": HEAVY,
    "empty_batch_sizes": HEAVY.replace("batch_sizes: [1]", "batch_sizes: []") + SEQ,
    "empty_workers": HEAVY + strat("  - strategy: goroutines\n    workers: []\n"),
    "empty_features": ONNX.replace("path: ../datasets/good.parquet", "path: ../datasets/good.parquet\n    features: []") + SEQ,
    "strategies_mapping": HEAVY + "strategies:\n  strategy: sequential\n",
    "strategies_scalar": HEAVY + "strategies: sequential\n",
    "strategy_entry_scalar": HEAVY + "strategies:\n  - sequential\n",
    "strategy_missing": HEAVY + strat("  - workers: 2\n"),
    "strategy_unknown": HEAVY + strat("  - strategy: worker_pool\n"),
    "strategy_not_string": HEAVY + strat("  - strategy: [sequential]\n"),
    "workers_string": HEAVY + strat("  - strategy: goroutines\n    workers: many\n"),
    "workers_bool": HEAVY + strat("  - strategy: goroutines\n    workers: true\n"),
    "workers_map": HEAVY + strat("  - strategy: goroutines\n    workers: {n: 2}\n"),
    "repetitions_bool": HEAVY.replace("repetitions: 1", "repetitions: true") + SEQ,
    "workload_scalar": "workload: 5\nbatch_sizes: [1]\n" + SEQ,
    "spinning_string": ONNX + "session:\n  spinning: sometimes\n" + SEQ,
    "label_list": ONNX.replace("path: ../datasets/good.parquet", "path: ../datasets/good.parquet\n    label: [a, b]") + SEQ,
    "kind_unknown": HEAVY.replace("kind: heavy-task", "kind: gpu") + SEQ,
    "heavy_with_ort": HEAVY + strat("  - strategy: intra-op\n    threads: 2\n"),
    "format_unknown": HEAVY + SEQ + "output:\n  formats: [xml]\n",
    "graph_opt_unknown": ONNX + "session:\n  graph_optimization: max\n" + SEQ,
    "transport_unknown": HEAVY + strat("  - strategy: processes\n    workers: 2\n    transport: carrier-pigeon\n"),
    "duplicate_cells": HEAVY + strat("  - strategy: goroutines\n    workers: 2\n  - strategy: goroutines\n    workers: 2\n"),
}

if __name__ == "__main__":
    for name, text in CASES.items():
        with open(name + ".yaml", "w", encoding="utf-8", newline="") as f:
            f.write(text)
    print(len(CASES), "configs")
