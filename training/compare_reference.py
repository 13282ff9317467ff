#!/usr/bin/env python3
"""Compare a regenerated training output tree with the committed one.

    python training/compare_reference.py --expected . --actual /tmp/regenerated

Both roots hold the layout the notebook writes: training/reference/*.parquet,
datasets/data/*.parquet and training/models/*.onnx.

* reference predictions: same files, same schema, same `row` column, `label`
  equal, `probabilities` within --atol (default 1e-5) absolute;
* datasets: same files, same schema, identical values (bit for bit);
* models: byte equality is reported for information only (a different converter
  build may serialise differently while predicting the same thing; the
  reference predictions are what must match).

Exits 1 when anything that must match does not, 0 otherwise. Needs numpy and
pyarrow only.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REFERENCE = Path("training/reference")
DATA = Path("datasets/data")
MODELS = Path("training/models")


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def ok(self, what: str, detail: str = "") -> None:
        print(f"  ok    {what}{'  ' + detail if detail else ''}")

    def fail(self, what: str, detail: str) -> None:
        print(f"  FAIL  {what}  {detail}")
        self.failures.append(f"{what}: {detail}")

    def info(self, what: str, detail: str) -> None:
        print(f"  info  {what}  {detail}")


def file_sets(expected: Path, actual: Path, sub: Path, pattern: str, rep: Report) -> list[str]:
    exp = sorted(p.name for p in (expected / sub).glob(pattern))
    act = sorted(p.name for p in (actual / sub).glob(pattern))
    if not exp:
        rep.fail(str(sub), f"no {pattern} files under {expected / sub}")
    for name in sorted(set(exp) - set(act)):
        rep.fail(str(sub / name), "missing from the regenerated output")
    for name in sorted(set(act) - set(exp)):
        rep.fail(str(sub / name), "regenerated but not committed")
    return sorted(set(exp) & set(act))


def same_schema(what: str, a: pa.Table, b: pa.Table, rep: Report) -> bool:
    # Compare names and types; key/value metadata may legitimately differ.
    if a.schema.remove_metadata().equals(b.schema.remove_metadata()):
        return True
    rep.fail(what, f"schema differs:\n--- committed\n{a.schema}\n--- regenerated\n{b.schema}")
    return False


def flat_values(col: pa.ChunkedArray) -> np.ndarray:
    arr = col.combine_chunks()
    if pa.types.is_fixed_size_list(arr.type):
        return arr.flatten().to_numpy(zero_copy_only=False).reshape(len(arr), arr.type.list_size)
    return arr.to_numpy(zero_copy_only=False)


def compare_reference(expected: Path, actual: Path, atol: float, rep: Report) -> None:
    print(f"reference predictions ({REFERENCE}, probabilities atol {atol:g}):")
    for name in file_sets(expected, actual, REFERENCE, "*.parquet", rep):
        what = str(REFERENCE / name)
        a, b = pq.read_table(expected / REFERENCE / name), pq.read_table(actual / REFERENCE / name)
        if not same_schema(what, a, b, rep):
            continue
        if a.num_rows != b.num_rows:
            rep.fail(what, f"{a.num_rows} rows committed, {b.num_rows} regenerated")
            continue
        if not np.array_equal(flat_values(a["row"]), flat_values(b["row"])):
            rep.fail(what, "row column differs")
            continue
        la, lb = flat_values(a["label"]), flat_values(b["label"])
        bad = np.flatnonzero(la != lb)
        pa_, pb_ = flat_values(a["probabilities"]), flat_values(b["probabilities"])
        diff = np.abs(pa_.astype(np.float64) - pb_.astype(np.float64))
        max_diff = float(diff.max()) if diff.size else 0.0
        if np.isnan(pa_).any() or np.isnan(pb_).any():
            rep.fail(what, "NaN in probabilities")
        elif bad.size:
            rows = ", ".join(f"row {i}: {la[i]} vs {lb[i]}" for i in bad[:5])
            rep.fail(what, f"{bad.size} labels differ ({rows}{', ...' if bad.size > 5 else ''})")
        elif max_diff > atol:
            worst = int(np.unravel_index(diff.argmax(), diff.shape)[0])
            n_rows = int((diff > atol).any(axis=1).sum())
            rep.fail(what, f"probabilities differ by up to {max_diff:.3g} (> {atol:g}) in {n_rows} rows, worst row {worst}")
        else:
            rep.ok(what, f"{a.num_rows} rows, labels equal, max |dp| = {max_diff:.2g}")


def compare_datasets(expected: Path, actual: Path, rep: Report) -> None:
    print(f"datasets ({DATA}, values must be identical):")
    for name in file_sets(expected, actual, DATA, "*.parquet", rep):
        what = str(DATA / name)
        a, b = pq.read_table(expected / DATA / name), pq.read_table(actual / DATA / name)
        if not same_schema(what, a, b, rep):
            continue
        if a.num_rows != b.num_rows:
            rep.fail(what, f"{a.num_rows} rows committed, {b.num_rows} regenerated")
            continue
        differing = []
        for col in a.column_names:
            va, vb = flat_values(a[col]), flat_values(b[col])
            # bit-for-bit: view floats as integers so -0.0/0.0 and NaN payloads count too
            if va.dtype.kind == "f":
                va, vb = va.view(f"u{va.dtype.itemsize}"), vb.view(f"u{vb.dtype.itemsize}")
            if not np.array_equal(va, vb):
                n = int((va != vb).reshape(len(va), -1).any(axis=1).sum())
                differing.append(f"{col!r} ({n} rows)")
        if differing:
            rep.fail(what, "values differ in columns " + ", ".join(differing[:5]) + (" ..." if len(differing) > 5 else ""))
        else:
            rep.ok(what, f"{a.num_rows} rows x {a.num_columns} columns identical")


def compare_models(expected: Path, actual: Path, rep: Report) -> None:
    print(f"models ({MODELS}, byte equality is informational):")
    for name in file_sets(expected, actual, MODELS, "*.onnx", rep):
        ha = hashlib.sha256((expected / MODELS / name).read_bytes()).hexdigest()
        hb = hashlib.sha256((actual / MODELS / name).read_bytes()).hexdigest()
        if ha == hb:
            rep.ok(str(MODELS / name), f"identical bytes (sha256 {ha[:16]})")
        else:
            rep.info(str(MODELS / name), f"bytes differ (committed {ha[:16]}, regenerated {hb[:16]})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--expected", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="root holding the committed artifacts (default: the repository root)")
    ap.add_argument("--actual", type=Path, required=True, help="root the notebook regenerated into")
    ap.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance on probabilities")
    args = ap.parse_args()

    print(f"comparing committed {args.expected.resolve()} with regenerated {args.actual.resolve()}")
    rep = Report()
    compare_reference(args.expected, args.actual, args.atol, rep)
    compare_datasets(args.expected, args.actual, rep)
    compare_models(args.expected, args.actual, rep)
    if rep.failures:
        print(f"\ncheck-training FAILED: {len(rep.failures)} difference(s)")
        for f in rep.failures:
            print(f"  - {f.splitlines()[0]}")
        return 1
    print("\ncheck-training passed: regenerated reference predictions and datasets match the committed ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
