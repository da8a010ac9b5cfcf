"""Time rules of a device, in its own time zone: quiet hours, its day (for the daily cap), when a
digest goes out. Pure functions of aware datetimes; no database.

Quiet hours are a window of local wall-clock times that may cross midnight (22:00 → 07:00).
``quiet_until`` returns the end of the window the instant falls in, as an aware UTC datetime, or
``None`` outside it. Local times that do not exist (the spring-forward hour) or exist twice (the
fall-back hour) are resolved by ``zoneinfo``'s ``fold=0`` rule and normalised through UTC, so
the end is always a real instant after ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

#: A digest of the pushes capped during a day goes out at this local time (the same day when
#: the cap is reached before it, else the next morning at ``DIGEST_MORNING``).
DIGEST_EVENING = time(18, 30)
DIGEST_MORNING = time(8, 0)


def zone(name: str | None) -> ZoneInfo:
    """The device's zone; the city's when the name is empty or unknown."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """The instant of local ``day`` + ``moment`` in ``tz`` (normalised through UTC)."""
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def in_window(local: time, start: time, end: time) -> bool:
    """Whether local time ``local`` falls in [start, end), the window possibly crossing midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    now: datetime, start: time | None, end: time | None, tz_name: str
) -> datetime | None:
    """The end of the quiet window ``now`` falls in, or None when pushes may go now."""
    if start is None or end is None:
        return None
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if not in_window(local.time().replace(tzinfo=None), start, end):
        return None
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)  # the window ends tomorrow morning
    until = _at(day, end, tz)
    if until <= now:  # a non-existent end time folded backwards: go one hour later
        until = now + timedelta(hours=1)
    return until


def day_start(now: datetime, tz_name: str) -> datetime:
    """Midnight (UTC instant) of the device's current local day."""
    tz = zone(tz_name)
    return _at(now.astimezone(tz).date(), time(0, 0), tz)


def local_date(now: datetime, tz_name: str) -> date:
    return now.astimezone(zone(tz_name)).date()


def digest_at(now: datetime, tz_name: str) -> datetime:
    """When the digest of pushes capped at ``now`` goes out (before quiet hours apply)."""
    tz = zone(tz_name)
    local = now.astimezone(tz)
    evening = _at(local.date(), DIGEST_EVENING, tz)
    if now < evening - timedelta(minutes=30):
        return evening
    return _at(local.date() + timedelta(days=1), DIGEST_MORNING, tz)


def week_start(now: datetime, tz_name: str) -> datetime:
    """Monday 00:00 (UTC instant) of the device's current local week: the budget's window."""
    tz = zone(tz_name)
    local = now.astimezone(tz).date()
    return _at(local - timedelta(days=local.weekday()), time(0, 0), tz)


def weekly_digest_at(now: datetime, tz_name: str, weekday: int, moment: time) -> datetime:
    """The next local ``weekday`` (0 = Monday) at ``moment`` strictly after ``now`` (or less
    than 30 minutes before it, as for the daily digest): when a weekly digest goes out."""
    tz = zone(tz_name)
    local = now.astimezone(tz).date()
    day = local + timedelta(days=(weekday - local.weekday()) % 7)
    at = _at(day, moment, tz)
    if at - timedelta(minutes=30) <= now:
        at = _at(day + timedelta(days=7), moment, tz)
    return at
