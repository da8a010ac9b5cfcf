"""The feed's first page with Redis down, hung or flapping: always served, never a 500.

A personal first page numbers its snapshot in a per-device slot (``cache.incr``), which
raises rather than pretend when Redis is unreachable. Real servers (a private redis-server,
stopped, paused with SIGSTOP in quick alternation, or a black-hole port); never mocks.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from backend.settings import cache_settings
from tests.factories import CENTRE_LAT, CENTRE_LON
from tests.recommend.feed_support import URL, add_place, consenting, event, news, works

pytestmark = pytest.mark.django_db

FIRST_PAGE = f"{URL}?lat={CENTRE_LAT}&lon={CENTRE_LON}&page_size=2"
FAST_S = 1.5  # the socket timeouts, with margin (tests/faults/test_redis_outage.py)


@pytest.fixture
def feed_city(settings, tmp_path):
    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "models")
    for k in range(6):
        (news, works, event)[k % 3](60 * k, 40 * (k % 5))


def _use_cache(settings, url: str, *, retry_s: float = 5.0, timeout_s: float = 0.5) -> None:
    config = cache_settings(url)
    options = {"RETRY_S": retry_s, "socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    config["OPTIONS"] = {**config["OPTIONS"], **options}  # type: ignore[dict-item]
    settings.CACHES = {"default": config}


def _resident():
    resident = consenting()
    add_place(resident)
    return resident


def test_feed_personal_first_page_redis_stopped_200_cursor_503(settings, redis_server, feed_city):
    _use_cache(settings, redis_server.url)
    resident = _resident()
    before = resident.client.get(FIRST_PAGE)
    assert before.status_code == 200 and before.json()["personalized"]
    redis_server.stop()

    started = time.monotonic()
    response = resident.client.get(FIRST_PAGE)

    assert response.status_code == 200, response.content[:500]
    assert time.monotonic() - started < FAST_S
    body = response.json()
    assert body["personalized"]
    assert [r["id"] for r in body["results"]] == [r["id"] for r in before.json()["results"]]
    following = resident.client.get(body["next"])  # its snapshot could not be kept
    assert following.status_code == 503
    assert following.json()["error"] == "cache_unavailable"


def test_feed_personal_first_page_redis_hung_200(settings, black_hole, feed_city):
    _use_cache(settings, black_hole.url)
    resident = _resident()

    started = time.monotonic()
    response = resident.client.get(FIRST_PAGE)

    assert response.status_code == 200, response.content[:500]
    assert time.monotonic() - started < FAST_S
    assert response.json()["personalized"] and response.json()["results"]


def test_feed_first_pages_redis_flapping_never_5xx(settings, redis_server, feed_city, monkeypatch):
    """Redis paused and resumed every few ms (a starved server): a call may time out anywhere."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "feed", "100000/min")
    _use_cache(settings, redis_server.url, retry_s=0.02, timeout_s=0.02)
    resident, anonymous = _resident(), APIClient()
    stop = threading.Event()

    def flap() -> None:
        rng = random.Random(1)
        while not stop.is_set():
            redis_server.pause()
            time.sleep(rng.uniform(0.005, 0.05))
            redis_server.resume()
            time.sleep(rng.uniform(0.0, 0.02))

    flapper = threading.Thread(target=flap)
    flapper.start()
    answers: list[int] = []
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            for client in (anonymous, resident.client):
                answers.append(client.get(FIRST_PAGE).status_code)
    finally:
        stop.set()
        flapper.join()

    assert len(answers) > 20
    assert set(answers) == {200}, sorted(set(answers))
