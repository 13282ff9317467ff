import numpy as np
import pytest

from ortbench_py.heavy import heavy_item, to_int64

# (seed, cost, Go's workload.HeavyItem(seed, cost)) — printed by the Go side;
# runner/strategy/python_test.go checks the same twin against Go directly.
GO = [
    (0, 1, 7806831265572108202),
    (0, 3, 11721120474268564725),
    (0, 1000, 8991047174470270368),
    (1, 1, 9600797335806429706),
    (1, 3, 13892023027591223747),
    (1, 1000, 4651182825775915270),
    (7, 1, 1917849681230647900),
    (7, 3, 121525296064457226),
    (7, 1000, 12949270347989240012),
    (12345, 1, 18225077465276251223),
    (12345, 3, 14143514023832288915),
    (12345, 1000, 6456682639025793846),
    (1 << 40, 1, 5445450824265502762),
    (1 << 40, 3, 5153783315517649405),
    (1 << 40, 1000, 167817985968441957),
]


@pytest.mark.parametrize("seed,cost,want", GO)
def test_heavy_item_matches_go(seed, cost, want):
    assert heavy_item(seed, cost) == want


def test_heavy_item_stays_64_bit():
    for seed in range(50):
        assert 0 <= heavy_item(seed, 20) < 1 << 64


def test_to_int64_is_gos_conversion():
    for _, _, u in GO:
        assert np.array([u], dtype=np.uint64).view(np.int64)[0] == to_int64(u)
    assert to_int64((1 << 64) - 1) == -1
    assert to_int64(5) == 5
