"""The incident of the load smoke test, replayed on real servers: feed snapshots of another release.

Two load tests at once (main and a pre-split branch, same seeds, one Redis database) made
main's gunicorn read the other's ``feed:shared:<cell>`` snapshots: every such request was a
500 (``ModuleNotFoundError: No module named 'apps.recommend.feed'`` out of ``cache.get``).
Here the other server's writes are put in a private Redis first, for every cell the locust
users will ask, then the real gunicorn serves the anonymous feed.
"""

from __future__ import annotations

import json
import pickle
import random

import pytest
import redis

from apps.residents.rounding import snap_coordinates
from bench.city.build import CitySpec, build
from bench.load.scenarios import City
from bench.load_test import LoadOptions, run
from testing.faultservers import RedisServer
from tests.benchcity.test_load_test import _database_url
from tests.faults.other_release import OLD_MODULE, old_release_snapshot

USERS = 2
SEED = 1  # LoadOptions' default: the locust users draw the same points in every run


def _cells(manifest: dict, draws: int = 3000) -> set[str]:
    """The grid cells the load test's users ask the feed of, as the locustfile draws them."""
    cells = set()
    for user in range(USERS):
        city = City(manifest, random.Random(SEED * 1_000_003 + user))
        for _ in range(draws):
            lat, lon = city.point()
            city.ip()  # the locustfile draws a client address per request
            x, y = snap_coordinates(lon, lat)
            cells.add(f"{x:.3f},{y:.3f}")
    return cells


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_load_test_feed_other_release_snapshots_no_500(tmp_path):
    server = RedisServer()
    server.start()
    try:
        manifest = tmp_path / "city.json"
        spec = CitySpec(devices=200, items=150, interactions=1000, seed=5, token_sample=40)
        build(spec, manifest_path=manifest)
        other = redis.Redis.from_url(server.url)
        other.set(":1:feed:snapshot:other", old_release_snapshot(), ex=600)
        name = pickle.dumps("other", pickle.HIGHEST_PROTOCOL)
        for cell in _cells(json.loads(manifest.read_text())):
            other.set(f":1:feed:shared:{cell}", name, ex=600)

        outcome = run(
            LoadOptions(
                database_url=_database_url(),
                cache_url=server.url,
                manifest=manifest,
                workers=1,
                threads=2,
                users=USERS,
                duration=2,
                min_requests=1,
                max_duration=60,
                warmup=0,
                latency_fraction=0,
                scenarios=["feed_anonymous"],
                flush_cache=False,
                seed=SEED,
                out=tmp_path / "results",
            )
        )
    finally:
        server.stop()

    (result,) = outcome["figures"]["results"]
    log = outcome["gunicorn_log_tail"]
    assert result["max"]["requests"] > 0, log
    assert result["max"]["failures"] == 0, f"{result['max']['failures_detail']}\n{log}"
    # Logged once (per CACHE_RETRY_S), the other release's class named.
    assert "unreadable value taken as a miss (ModuleNotFoundError" in log
    assert OLD_MODULE.rsplit(".", 1)[0] in log
