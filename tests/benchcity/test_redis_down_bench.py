"""bench/redis_down.py, small, as a CI smoke check: every read served in the three modes.

No timing is asserted (CI machines differ); the figures come from full runs (bench/README.md).
"""

from __future__ import annotations

import pytest

from bench.city.build import CitySpec, build
from bench.redis_down import MODES, quick_options, run
from tests.benchcity.test_load_test import _database_url


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_redis_down_bench_smoke(tmp_path):
    build(
        CitySpec(devices=100, items=60, interactions=200, seed=3, token_sample=10),
        manifest_path=tmp_path / "city.json",
    )

    outcome = run(**{**quick_options(), "database": _database_url(), "out": str(tmp_path)})

    summary = outcome["figures"]["summary"]
    for mode in MODES:
        assert summary[mode]["requests"] > 0, mode
        assert summary[mode]["non_2xx"] == 0, (mode, summary[mode])
        assert summary[mode]["socket_errors"] == 0, (mode, summary[mode])
    assert outcome["figures"]["health"] == {
        "normal": "ok",
        "stopped": "degraded",
        "hung": "degraded",
    }
    assert outcome["targets"][0]["status"] == "met"
    assert "| stopped |" in outcome["markdown"]
