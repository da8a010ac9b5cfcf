"""The item index query's small helpers against the numpy calls they stand in for."""

from __future__ import annotations

import numpy as np

from apps.recommend.online.index_query import _union


def test_union_equals_unique_of_the_concatenation():
    rng = np.random.default_rng(8)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        parts = [rng.integers(0, n, size=rng.integers(0, 300)) for _ in range(rng.integers(1, 6))]
        got = _union(parts, n)
        expected = np.unique(np.concatenate(parts))
        assert got.dtype == expected.dtype
        assert got.tobytes() == expected.tobytes()
