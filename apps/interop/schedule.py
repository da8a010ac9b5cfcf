"""When works happen, as the standards say it: windows from ``WorksPeriod`` rows, and back.

Quartier stores periods (dates, ISO weekdays, daily hours in local time, overnight when the
end hour is earlier than the start). WZDx 4.2 has no recurrence rule: a recurring work zone is
one road event per occurrence, linked ``first-occurrence`` / ``next-occurrence``. CIFS and
DATEX II carry the pattern itself (``schedule``; ``validPeriod`` with days and time slots).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from django.utils import timezone

#: At most this many occurrences of one works go into a WZDx feed (the next ones come as the
#: feed is refreshed), so that a year of daily works cannot blow the feed up.
MAX_OCCURRENCES = 62
ALL_WEEK = "1234567"
DAY = timedelta(days=1)


class PeriodLike(Protocol):
    start_date: date
    end_date: date
    weekdays: str
    daily_start_time: time | None
    daily_end_time: time | None


@dataclass(frozen=True)
class Window:
    """One stretch of time the works are on, aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class PeriodSpec:
    """A period as the mapping layer builds it (the fields of ``WorksPeriod``)."""

    start_date: date
    end_date: date
    weekdays: str = ALL_WEEK
    daily_start_time: time | None = None
    daily_end_time: time | None = None


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), timezone.get_default_timezone())


def is_continuous(period: PeriodLike) -> bool:
    """Every day, all day: the period is one window rather than daily occurrences."""
    return period.weekdays == ALL_WEEK and period.daily_start_time is None


def _window(period: PeriodLike, first: date, last: date) -> Window:
    """From ``first``'s daily start to ``last``'s daily end (the next day when overnight)."""
    start = _local(first, period.daily_start_time or time.min)
    end_day = last + DAY if _overnight(period) or not period.daily_end_time else last
    return Window(start, _local(end_day, period.daily_end_time or time.min))


def period_window(period: PeriodLike) -> Window:
    """The whole span of a period, first day's start to last day's end."""
    return _window(period, period.start_date, period.end_date)


def _overnight(period: PeriodLike) -> bool:
    return bool(
        period.daily_start_time
        and period.daily_end_time
        and period.daily_end_time <= period.daily_start_time
    )


def occurrences(
    period: PeriodLike, *, since: datetime | None = None, limit: int = MAX_OCCURRENCES
) -> list[Window]:
    """The daily windows of a period, from the first not over at ``since``, at most ``limit``."""
    if is_continuous(period):
        window = period_window(period)
        return [window] if since is None or window.end > since else []
    day = period.start_date
    if since is not None:
        day = max(day, timezone.localtime(since).date() - DAY)
    found: list[Window] = []
    while day <= period.end_date and len(found) < limit:
        if str(day.isoweekday()) in period.weekdays:
            window = _window(period, day, day)
            if since is None or window.end > since:
                found.append(window)
        day += DAY
    return found


def works_windows(
    *,
    start_at: datetime,
    end_at: datetime,
    periods: Sequence[PeriodLike],
    since: datetime | None = None,
    limit: int = MAX_OCCURRENCES,
) -> list[Window]:
    """Every window of works in time order, bounded by ``limit`` (whole span without periods)."""
    if not periods:
        return [Window(start_at, end_at)]
    windows: list[Window] = []
    for period in periods:
        windows.extend(occurrences(period, since=since, limit=limit))
    windows.sort(key=lambda w: w.start)
    return windows[:limit] or [Window(start_at, end_at)]


def periods_from_windows(windows: Iterable[Window]) -> list[PeriodSpec]:
    """Periods that give back ``windows``: same daily hours grouped, their weekdays collected.

    A window longer than a day is a continuous period of its own (all days, no hours).
    """
    groups: dict[tuple[time, time], list[date]] = defaultdict(list)
    periods: list[PeriodSpec] = []
    for window in windows:
        start, end = timezone.localtime(window.start), timezone.localtime(window.end)
        if end - start > DAY:
            last = end.date() - DAY if end.time() == time.min else end.date()
            periods.append(PeriodSpec(start.date(), last))
            continue
        groups[(start.time(), end.time())].append(start.date())
    for (daily_start, daily_end), days in groups.items():
        weekdays = "".join(sorted({str(d.isoweekday()) for d in days}))
        whole_day = daily_start == time.min and daily_end == time.min
        periods.append(
            PeriodSpec(
                start_date=min(days),
                end_date=max(days),
                weekdays=weekdays,
                daily_start_time=None if whole_day else daily_start,
                daily_end_time=None if whole_day else daily_end,
            )
        )
    periods.sort(key=lambda p: (p.start_date, p.daily_start_time or time.min))
    return periods


def utc(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, ``Z`` suffix (WZDx dates)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(moment: datetime) -> str:
    """ISO 8601 in the city's time, to the second, with its offset (CIFS, DATEX II)."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()
