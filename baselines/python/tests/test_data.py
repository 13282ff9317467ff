import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import DATA
from ortbench_py.work import load_features


def digits_names():
    return [n for n in pq.read_schema(DATA / "digits.parquet").names if n != "label"]


def test_named_columns_and_tensor_column_read_the_same_rows():
    names = digits_names()
    a = load_features(str(DATA / "digits.parquet"), names, 100, len(names))
    # digits_tensor.parquet holds the same rows as one fixed_size_list column.
    b = load_features(str(DATA / "digits_tensor.parquet"), names, 100, len(names))
    assert a.dtype == np.float32 and a.shape == (100, 64)
    np.testing.assert_array_equal(a, b)


def test_named_columns_follow_the_given_order():
    names = digits_names()
    a = load_features(str(DATA / "digits.parquet"), names, 10, 64)
    rev = load_features(str(DATA / "digits.parquet"), names[::-1], 10, 64)
    np.testing.assert_array_equal(a[:, ::-1], rev)


def test_arrow_ipc_and_nulls(tmp_path):
    t = pa.table({"a": pa.array([1.5, None, 3.0], pa.float64()), "b": pa.array([1, 2, 3], pa.int32()),
                  "label": pa.array([0, 1, 0], pa.int64())})
    path = tmp_path / "t.arrow"
    with ipc.new_file(str(path), t.schema) as w:
        w.write_table(t)
    x = load_features(str(path), ["a", "b"], 3, 2)
    assert np.isnan(x[1, 0])
    np.testing.assert_array_equal(x[[0, 2]], np.array([[1.5, 1], [3, 3]], np.float32))


def test_too_few_rows_is_an_error():
    with pytest.raises(ValueError, match="rows"):
        load_features(str(DATA / "digits.parquet"), digits_names(), 10**7, 64)


def test_missing_columns_is_an_error():
    with pytest.raises(ValueError, match="cannot find the feature columns"):
        load_features(str(DATA / "digits.parquet"), ["nope"] * 3, 10, 3)
