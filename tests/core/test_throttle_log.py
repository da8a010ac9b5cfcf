"""Throttles on Redis keep DRF's sliding log in one round trip (``LoggedRateThrottle``).

The same requests through the embedded mode's memory cache (DRF's own code) and through Redis
(the sorted set and its script) are let through and refused alike, with the same
``Retry-After``; the window slides; on Redis the log is a sorted set under its own key, read
and written by one command per request whatever its length; Redis down lets reads through
and refuses registrations (503); erasing a device drops its logs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from apps.residents.caches import device_caches_forget, device_throttle_key
from tests.residents.factories import make_resident

pytestmark = [pytest.mark.django_db]

REDIS_URL = os.environ.get("TEST_ERASURE_REDIS_URL", "redis://127.0.0.1:6379/14")
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
LISTS = "/api/v1/categories/"


def _caches(settings, kind: str) -> None:
    if kind == "redis":
        settings.CACHES = {
            "default": {"BACKEND": "apps.core.cache.FailOpenRedisCache", "LOCATION": REDIS_URL}
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def _unreachable(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"RETRY_S": 60},
        }
    }


def _rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def _story(settings, time_machine, kind: str) -> list[tuple[int, str | None]]:
    """Status and Retry-After of the same requests, spread over time, through one cache."""
    _caches(settings, kind)
    _rates(settings, anon="3/min")
    time_machine.move_to(NOW, tick=False)
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    seen = []

    def get(after_s: float) -> None:
        time_machine.move_to(NOW + timedelta(seconds=after_s), tick=False)
        response = client.get(LISTS)
        seen.append((response.status_code, response.headers.get("Retry-After")))

    for after_s in (0, 10, 20, 30, 59, 60.5, 61, 70, 75, 125):
        get(after_s)
    other = APIClient(REMOTE_ADDR="203.0.113.10").get(LISTS)
    seen.append((other.status_code, other.headers.get("Retry-After")))
    cache.clear()
    return seen


def test_redis_log_lets_through_and_refuses_as_drf_does(settings, time_machine):
    local = _story(settings, time_machine, "local")
    on_redis = _story(settings, time_machine, "redis")
    assert on_redis == local
    codes = [code for code, _ in on_redis]
    # 3 a minute: at 30 s and 59 s, refused; at 60.5 s the request of 0 s has left the
    # window; at 61 s three are in it again (10, 20, 60.5), at 70 s two (20, 60.5)...
    assert codes == [200, 200, 200, 429, 429, 200, 429, 200, 429, 200, 200]
    assert on_redis[3][1] == "30"  # DRF: (60 - (30 - 0)) / (3 - 3 + 1)


def test_the_log_is_a_sorted_set_read_in_one_round_trip(settings):
    _caches(settings, "redis")
    _rates(settings, anon="1000/min")
    client = APIClient(REMOTE_ADDR="203.0.113.11")
    for _ in range(40):
        assert client.get(LISTS).status_code == 200
    raw = redis.Redis.from_url(REDIS_URL)
    logs = [k for k in raw.scan_iter(match="*throttle_anon_203.0.113.11*")]
    assert [k.decode().split(":", 2)[-1] for k in logs] == ["throttle_anon_203.0.113.11:log"]
    assert raw.type(logs[0]) == b"zset" and raw.zcard(logs[0]) == 40
    assert 0 < raw.pttl(logs[0]) <= 60_000
    before = raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    assert client.get(LISTS).status_code == 200
    after = raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    assert after - before == 1  # one script call; the log itself never travels
    cache.clear()


def test_redis_down_lets_reads_through_uncounted_and_refuses_registrations(settings):
    _unreachable(settings)
    _rates(settings, anon="1/min")
    client = APIClient(REMOTE_ADDR="203.0.113.12")
    assert [client.get(LISTS).status_code for _ in range(3)] == [200, 200, 200]
    registered = client.post("/api/v1/devices/", {"platform": "web"}, format="json")
    assert registered.status_code == 503


def test_erasing_a_device_drops_its_logs(settings):
    _caches(settings, "redis")
    resident = make_resident()
    for _ in range(3):
        assert resident.client.get("/api/v1/me/").status_code == 200
    key = device_throttle_key("resident", resident.device.pk)
    raw = redis.Redis.from_url(REDIS_URL)
    logged = [k for k in raw.scan_iter(match=f"*{key}*")]
    assert len(logged) == 1 and raw.zcard(logged[0]) == 3
    device_caches_forget(device_ids=[resident.device.pk])
    assert [k for k in raw.scan_iter(match=f"*{key}*")] == []
    cache.clear()


def test_a_views_first_reads_ride_on_the_throttles_round_trip(settings):
    """``throttle_log_reading``: the log counted and the keys read in one pipeline; a missing
    key is left out, a value this release cannot read is a miss, and a server that lost its
    scripts (restarted, flushed) has the script loaded again, the request still counted."""
    _caches(settings, "redis")
    backend = caches["default"]
    raw = redis.Redis.from_url(REDIS_URL)
    cache.set("first:a", {"places": 2})
    raw.set(cache.make_and_validate_key("first:bad"), b"\x80\x05\x95garbage")

    logged, values = backend.throttle_log_reading(
        "throttle:x", 1000.0, 60.0, 2, ["first:a", "first:missing", "first:bad"]
    )
    assert logged == (True, 1, 1000.0)
    assert values == {"first:a": {"places": 2}}

    raw.script_flush()
    logged, values = backend.throttle_log_reading("throttle:x", 1001.0, 60.0, 2, ["first:a"])
    assert logged == (True, 2, 1000.0) and values == {"first:a": {"places": 2}}
    logged, _ = backend.throttle_log_reading("throttle:x", 1002.0, 60.0, 2, ["first:a"])
    assert logged == (False, 2, 1000.0)  # the limit holds across the reload
    assert raw.zcard(cache.make_and_validate_key("throttle:x")) == 2
    cache.clear()


def test_first_reads_fail_open_with_the_throttle(settings):
    _unreachable(settings)
    backend = caches["default"]
    assert backend.throttle_log_reading("throttle:y", 1.0, 60.0, 2, ["first:a"]) == (None, {})
