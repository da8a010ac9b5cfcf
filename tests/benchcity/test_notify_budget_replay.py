"""``bench/notify_budget_replay.py`` on a small city, as a CI smoke check, and its replay rule on
hand-made weeks (the figures come from runs on the bench city, bench/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench import notify_budget_replay
from bench.city.build import CitySpec, build
from bench.notify_budget_replay import AFTER_DEFAULTS, BEFORE, replay

#: Monday 7 December 2026, 09:00 in Paris.
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_replay_of_a_busy_week_before_and_after():
    # Every day of the week: 4 information pushes, 3 important, 1 alert.
    pushes = []
    for day in range(7):
        base = MONDAY + timedelta(days=day)
        pushes += [(base + timedelta(minutes=m), 0) for m in range(4)]
        pushes += [(base + timedelta(hours=1, minutes=m), 1) for m in range(3)]
        pushes.append((base + timedelta(hours=2), 2))

    before = replay(pushes, tz="Europe/Paris", daily_cap=5, limits=BEFORE)
    after = replay(pushes, tz="Europe/Paris", daily_cap=5, limits=AFTER_DEFAULTS)

    # Before: 5 a day of the 7 capped ones + the alert; 2 a day held back, a digest each day.
    assert before == (7 * 6, 7 * 2, 7)
    # After: 3 information pushes in the week, 2 important a day, every alert.
    assert after == (3 + 7 * 2 + 7, 7 * 7 - 3 - 7 * 2, 7)


@pytest.mark.django_db
def test_budget_replay_smoke(tmp_path):
    build(
        CitySpec(devices=300, items=400, interactions=200, seed=5, token_sample=10),
        manifest_path=tmp_path / "city.json",
    )

    result = notify_budget_replay.run(devices=60, days=30, seed=1)

    assert result["devices"] == 60
    assert result["items"] > 0
    before, after = result["figures"]["before"], result["figures"]["after"]
    assert after["pushes"]["median"] <= before["pushes"]["median"]
    assert after["pushes"]["p95"] <= before["pushes"]["p95"]
    assert after["held_share"] >= before["held_share"]
    assert "| after (budget) |" in notify_budget_replay.render(result)
