"""A tiny run of bench/notify_fanout.py on the test database: real workers, the fake FCM out of
process, every delivery checked (no timing asserted)."""

from __future__ import annotations

import os

import pytest

from bench import notify_fanout

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")


def test_fanout_benchmark_small_run(transactional_db):
    options = notify_fanout.FanoutOptions(
        broker_url=BROKER_URL,
        devices=600,
        repeat=1,
        alert_devices=1_200,
        alert_repeat=1,
        migrate=False,
        timeout_s=120,
    )

    result = notify_fanout.run(options)

    figures = result["figures"]
    [throughput] = figures["throughput"]["runs"]
    [alert] = figures["alert"]["runs"]
    # Each run already checked that the fake received every targeted token exactly once.
    assert (throughput["devices"], alert["devices"]) == (600, 1_200)
    assert throughput["msg_per_s"] > 0 and alert["commit_to_last_sent_s"] > 0
    assert (figures["alert"]["workers"], figures["alert"]["concurrency"]) == (1, 2)
    assert [t["status"] in ("met", "missed") for t in result["targets"]] == [True, True]
    assert "(a) one worker process" in result["markdown"]
    assert "1,200-device alert" in result["markdown"]
