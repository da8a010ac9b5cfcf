"""Locust users for the load test: one scenario per run (``BENCH_SCENARIO``), one endpoint.

Run by ``bench/load_test.py``; by hand::

    BENCH_SCENARIO=works_near BENCH_MANIFEST=var/bench/city.json \\
        .venv/bin/locust -f bench/load/locustfile.py --headless -u 16 -r 16 -t 20s \\
        -H http://127.0.0.1:8000 --csv var/bench/works_near

Environment: ``BENCH_SCENARIO`` (a name of ``bench/load/scenarios.py``), ``BENCH_MANIFEST``
(the bench city's manifest with device tokens), ``BENCH_WARMUP`` (seconds whose requests are
dropped from the statistics), ``BENCH_RATE`` (mean requests per second per user, exponential
gaps; 0 or unset: as fast as the server answers), ``BENCH_SEED``, ``BENCH_EXTRA`` (a JSON
file for the counts of ``X-Cache: hit`` answers), ``BENCH_MIN_REQUESTS`` with
``BENCH_DURATION`` (keep going after ``BENCH_WARMUP`` + ``BENCH_DURATION`` seconds until that
many requests were measured; locust's ``-t`` is then the bound). Each request comes from a
random resident address (``X-Forwarded-For``; the server runs with ``API_NUM_PROXIES=1``), as
behind a real proxy.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenarios import BY_NAME, City, interactions_body, registration_body

SCENARIO = BY_NAME[os.environ.get("BENCH_SCENARIO", "ceiling")]
MANIFEST = json.loads(Path(os.environ["BENCH_MANIFEST"]).read_text())
WARMUP = float(os.environ.get("BENCH_WARMUP", "0"))
RATE = float(os.environ.get("BENCH_RATE", "0"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
EXTRA = os.environ.get("BENCH_EXTRA")
MIN_REQUESTS = int(os.environ.get("BENCH_MIN_REQUESTS", "0"))
DURATION = float(os.environ.get("BENCH_DURATION", "0"))
#: ``X-Cache: hit`` answers, and the wall-clock window the statistics cover.
EXTRA_COUNTS = {"hit": 0, "answers": 0, "measured_from": 0.0, "measured_to": 0.0}
_users = iter(range(1_000_000))


@events.test_start.add_listener
def _reset_after_warmup(environment, **kwargs):
    def reset():
        gevent.sleep(WARMUP)
        environment.runner.stats.reset_all()
        EXTRA_COUNTS.update(hit=0, answers=0, measured_from=time.time())

    EXTRA_COUNTS["measured_from"] = time.time()
    if WARMUP > 0:
        gevent.spawn(reset)


@events.test_start.add_listener
def _stop_once_counted(environment, **kwargs):
    # On a starved machine the first answers may come after the planned duration: wait for
    # them (``-t`` bounds the wait) rather than report a scenario that was never measured.
    if MIN_REQUESTS <= 0:
        return

    def stop() -> None:
        gevent.sleep(WARMUP + DURATION)
        while environment.runner.stats.total.num_requests < MIN_REQUESTS:
            gevent.sleep(0.1)
        environment.runner.quit()

    gevent.spawn(stop)


@events.request.add_listener
def _count_cache_hits(response=None, exception=None, **kwargs):
    if exception is None and response is not None:
        EXTRA_COUNTS["answers"] += 1
        if response.headers.get("X-Cache") == "hit":
            EXTRA_COUNTS["hit"] += 1


@events.test_stop.add_listener
def _write_extra(environment, **kwargs):
    EXTRA_COUNTS["measured_to"] = time.time()
    if EXTRA:
        Path(EXTRA).write_text(json.dumps(EXTRA_COUNTS))


class Resident(FastHttpUser):
    def wait_time(self) -> float:
        # Paced runs draw exponential gaps (requests arrive as a Poisson process, as from
        # many phones), so the users never fall into step and hit the server in bursts.
        return self.city.rng.expovariate(RATE) if RATE > 0 else 0.0

    def on_start(self):
        self.city = City(MANIFEST, random.Random(SEED * 1_000_003 + next(_users)))
        if RATE > 0:
            gevent.sleep(self.city.rng.uniform(0, 1 / RATE))  # users start out of step

    def _headers(self, *, device: bool = False, consenting: bool = False) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.city.ip(), "Accept-Language": "fr"}
        if device:
            headers["Authorization"] = f"Bearer {self.city.token(consenting=consenting)}"
        return headers

    def _get(self, path: str, **kwargs) -> None:
        self.client.get(path, name=SCENARIO.name, headers=self._headers(**kwargs))

    @task
    def scenario(self) -> None:
        getattr(self, f"do_{SCENARIO.name}")()

    def do_ceiling(self) -> None:
        self._get("/api/v1/diagnostics/ceiling/")

    def do_plain_items(self) -> None:
        lat, lon = self.city.point()
        self._get(f"/api/v1/diagnostics/plain-items/?lat={lat}&lon={lon}")

    def do_news_list(self) -> None:
        rng = self.city.rng
        if rng.random() < 0.8 or not self.city.categories:
            self._get("/api/v1/news/")
        else:
            self._get(f"/api/v1/news/?category={rng.choice(self.city.categories)}")

    def _near(self, type_code: str) -> None:
        lat, lon = self.city.point()
        self._get(f"/api/v1/{type_code}/?near={lat},{lon}&radius=1000")

    def do_news_near(self) -> None:
        self._near("news")

    def do_works_near(self) -> None:
        self._near("works")

    def do_events_near(self) -> None:
        self._near("events")

    def do_works_geojson(self) -> None:
        self._get(f"/api/v1/works/?bbox={self.city.box()}&format=geojson")

    def do_detail(self) -> None:
        code, pk = self.city.item()
        self._get(f"/api/v1/{code}/{pk}/")

    def do_feed_anonymous(self) -> None:
        lat, lon = self.city.point()
        self._get(f"/api/v1/feed/?lat={lat}&lon={lon}")

    def do_feed_personal(self) -> None:
        lat, lon = self.city.point()
        self._get(f"/api/v1/feed/?lat={lat}&lon={lon}", device=True)

    def do_interactions(self) -> None:
        self.client.post(
            "/api/v1/interactions/",
            json=interactions_body(self.city),
            name=SCENARIO.name,
            headers=self._headers(device=True, consenting=True),
        )

    def do_register(self) -> None:
        self.client.post(
            "/api/v1/devices/",
            json=registration_body(self.city),
            name=SCENARIO.name,
            headers=self._headers(),
        )
