"""The item index query's helpers against the numpy calls and measurements they stand in for."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from apps.recommend.online.index_query import _Anchor, _distances, _union
from apps.recommend.online.segments import SegmentsBuilder, local_distances_m
from tests.recommend.test_segments import _shapes


def test_union_equals_unique_of_the_concatenation():
    rng = np.random.default_rng(8)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        parts = [rng.integers(0, n, size=rng.integers(0, 300)) for _ in range(rng.integers(1, 6))]
        got = _union(parts, n)
        expected = np.unique(np.concatenate(parts))
        assert got.dtype == expected.dtype
        assert got.tobytes() == expected.tobytes()


def test_distances_from_the_measured_rows_equal_measuring_them_all():
    """Metres kept from the nearest sources' measurements (each with the pending rows of the
    other sources) are the ones ``local_distances_m`` gives when measuring the rows at once."""
    rng = np.random.default_rng(4)
    builder = SegmentsBuilder()
    for shape in _shapes(rng):
        builder.add(shape)
    index = SimpleNamespace(segments=builder.build())
    n = len(index.segments.ptr) - 1
    for _ in range(100):
        rows = np.unique(rng.choice(n, size=rng.integers(1, n)))
        anchors = [
            _Anchor(float(lon), float(lat), np.zeros(2))
            for lon, lat in rng.uniform(-0.025, 0.025, size=(rng.integers(1, 4), 2))
        ]
        for anchor in anchors:  # some anchors measured nothing, others a part, pending too
            if rng.random() < 0.8:  # distinct rows, as the sources give them
                anchor.pending = rng.permutation(n)[: rng.integers(0, n)]
                anchor.measure(index, rng.permutation(n)[: rng.integers(0, n)])
        expected = local_distances_m(index.segments, rows, [(a.lon, a.lat) for a in anchors])
        assert _distances(index, rows, anchors).tobytes() == expected.tobytes()
