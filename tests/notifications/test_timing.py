"""Quiet hours across midnight and time zones, the device's day, digest times (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.notifications.timing import day_start, digest_at, in_window, quiet_until

PARIS = "Europe/Paris"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "start", "end", "inside"),
    [
        (time(23, 0), time(22, 0), time(7, 0), True),
        (time(3, 0), time(22, 0), time(7, 0), True),
        (time(7, 0), time(22, 0), time(7, 0), False),  # the end is excluded
        (time(22, 0), time(22, 0), time(7, 0), True),  # the start is included
        (time(12, 0), time(22, 0), time(7, 0), False),
        (time(13, 0), time(12, 0), time(14, 0), True),  # a daytime window
        (time(14, 0), time(12, 0), time(14, 0), False),
        (time(9, 0), time(9, 0), time(9, 0), False),  # an empty window never holds
    ],
)
def test_in_window(local, start, end, inside):
    assert in_window(local, start, end) is inside


def test_quiet_hours_across_midnight_end_tomorrow_morning():
    # 21:30 UTC = 22:30 in Paris (winter, UTC+1): quiet until 07:00 Paris the next day.
    assert quiet_until(utc(2026, 12, 1, 21, 30), time(22), time(7), PARIS) == utc(2026, 12, 2, 6, 0)


def test_quiet_hours_after_midnight_end_the_same_morning():
    # 01:00 UTC = 02:00 Paris: the window that started yesterday ends at 07:00 today.
    assert quiet_until(utc(2026, 12, 2, 1, 0), time(22), time(7), PARIS) == utc(2026, 12, 2, 6, 0)


def test_outside_quiet_hours_nothing_is_held():
    assert quiet_until(utc(2026, 12, 2, 12, 0), time(22), time(7), PARIS) is None
    assert quiet_until(utc(2026, 12, 2, 12, 0), None, None, PARIS) is None


def test_the_device_time_zone_decides_not_the_city():
    now = utc(2026, 12, 2, 12, 0)  # 13:00 in Paris, 01:00 on the 3rd in Auckland (UTC+13)
    assert quiet_until(now, time(22), time(7), PARIS) is None
    assert quiet_until(now, time(22), time(7), "Pacific/Auckland") == utc(2026, 12, 2, 18, 0)
    # New York (UTC-5): 07:00 local, the window just ended.
    assert quiet_until(now, time(22), time(7), "America/New_York") is None
    assert quiet_until(utc(2026, 12, 2, 11, 59), time(22), time(7), "America/New_York") == now


def test_summer_time_changes_the_utc_end():
    # 29 March 2026: Paris moves to UTC+2 at 02:00. Quiet until 07:00 local = 05:00 UTC.
    assert quiet_until(utc(2026, 3, 28, 23, 0), time(22), time(7), PARIS) == utc(2026, 3, 29, 5, 0)


def test_an_end_inside_the_spring_gap_is_still_after_now():
    # 02:30 does not exist on 29 March 2026 in Paris; the window must end after "now".
    now = utc(2026, 3, 29, 0, 45)  # 01:45 local
    until = quiet_until(now, time(1), time(2, 30), PARIS)
    assert until is not None and until > now


def test_unknown_time_zone_falls_back_to_the_city():
    assert quiet_until(utc(2026, 12, 1, 21, 30), time(22), time(7), "Mars/Olympus") == utc(
        2026, 12, 2, 6, 0
    )


@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    start=st.times(),
    end=st.times(),
    zone=st.sampled_from([PARIS, "Pacific/Auckland", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_held_pushes_always_wait_a_bounded_positive_time(now, start, end, zone):
    now = now.replace(tzinfo=UTC)
    until = quiet_until(now, start.replace(microsecond=0), end.replace(microsecond=0), zone)
    if until is not None:
        assert now < until <= now + timedelta(hours=25)


def test_the_device_day_starts_at_its_local_midnight():
    assert day_start(utc(2026, 12, 2, 12, 0), PARIS) == utc(2026, 12, 1, 23, 0)
    assert day_start(utc(2026, 12, 2, 12, 0), "Pacific/Auckland") == utc(2026, 12, 2, 11, 0)


def test_digest_goes_out_in_the_evening_or_the_next_morning():
    assert digest_at(utc(2026, 12, 2, 9, 0), PARIS) == utc(2026, 12, 2, 17, 30)  # 18:30 local
    assert digest_at(utc(2026, 12, 2, 19, 0), PARIS) == utc(2026, 12, 3, 7, 0)  # 08:00 next day
