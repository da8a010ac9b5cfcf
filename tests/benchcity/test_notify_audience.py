"""``bench/notify_audience.py`` on a small city, as a CI smoke check: the SQL audience and the
Python check find the same devices, in one query each, on the reach-box index. No timing is
asserted (the figures come from runs on the bench city, bench/README.md)."""

from __future__ import annotations

import math

import pytest

from bench import notify_audience
from bench.city.build import CitySpec, build
from bench.notify_audience import Shape, vincenty_m


@pytest.mark.django_db
def test_audience_bench_smoke(tmp_path):
    build(
        CitySpec(devices=400, items=300, interactions=500, seed=11, token_sample=10),
        manifest_path=tmp_path / "city.json",
    )

    result = notify_audience.run(items=8, repeat=1)

    items = result["items"]
    assert len(items) >= 4
    assert {i["geometry"] for i in items} >= {"LineString", "Polygon"}
    assert any(i["urgency"] >= 1 for i in items)  # an important one: no category filter
    assert sum(i["audience"] for i in items) > 0
    for item in items:
        assert item["same_devices"], (item["label"], item["only_sql"], item["only_python"])
        assert item["one_query"] and item["reach_index_used"], item["label"]
        assert item["inserted"] == item["audience"]
    assert result["mismatches"] == 0
    assert result["targets"][0]["id"] == "audience"
    assert "| roadwork |" in notify_audience.render(result)


def test_python_geodesy_against_known_distances():
    # Vincenty on WGS 84: 1° of latitude at 45° is 111,132 m; 1° of longitude there 78,847 m.
    assert vincenty_m(4.0, 44.5, 4.0, 45.5) == pytest.approx(111_132, abs=2)
    assert vincenty_m(4.0, 45.0, 5.0, 45.0) == pytest.approx(78_847, abs=2)
    line = Shape.of_wkt("LINESTRING(4.80 45.76, 4.90 45.76)")
    # A point 0.01° north of the middle of an east-west line: about 1,111 m away.
    assert line.distance_m(4.85, 45.77) == pytest.approx(1111.5, abs=1.5)
    # Beyond the end, the distance is to the end point.
    assert line.distance_m(4.91, 45.76) == pytest.approx(vincenty_m(4.90, 45.76, 4.91, 45.76))
    square = Shape.of_wkt("POLYGON((4.8 45.7, 4.9 45.7, 4.9 45.8, 4.8 45.8, 4.8 45.7))")
    assert square.distance_m(4.85, 45.75) == 0.0
    assert math.isinf(Shape().distance_m(4.85, 45.75))
