"""A small run of bench/notify_reliability.py on the test database (no timing asserted): a
worker killed with SIGKILL mid-fan-out loses nothing, a 503/429 storm delays everything until
it ends, with Retry-After honoured."""

from __future__ import annotations

import os

import pytest

from bench import notify_reliability

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")


def test_reliability_script_small_run(transactional_db):
    options = notify_reliability.ReliabilityOptions(
        broker_url=BROKER_URL,
        devices=2_000,
        storm_seconds=6,
        retry_after=1,
        stuck_sending_s=5,
        sweep_every_s=1,
        migrate=False,
        timeout_s=180,
    )

    result = notify_reliability.run(options)

    figures = result["figures"]
    failed = [c for c in (*figures["kill"]["checks"], *figures["storm"]["checks"]) if not c["ok"]]
    assert not failed, result["markdown"]
    kill, storm = figures["kill"], figures["storm"]
    assert kill["deliveries_at_kill"].get("sent", 0) < 2_000  # the kill came mid-fan-out
    assert kill["duplicates"] <= kill["duplicate_bound"] == 1_000
    assert kill["sweeper"]["recovered"] + kill["sweeper"]["lost"] > 0  # the sweeper did it
    assert storm["retry_after"]["checked"] > 0 and storm["retry_after"]["early"] == 0
    assert storm["errors"]["UNAVAILABLE"] > 0 and storm["errors"]["QUOTA_EXCEEDED"] > 0
    assert result["targets"][0]["status"] == "met"
    assert "ALL CHECKS PASSED" in result["markdown"]
