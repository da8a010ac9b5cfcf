"""The recurrence validator: bounded parsing, static and searched impossibility, bounded expansion.

``FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4;BYHOUR=1`` has no occurrence and made dateutil walk to
the year 9999 (minutes, with a transaction open); ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`` cost
seconds before its 400. Both must now be refused at once, and nothing written.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.events.recurrence import (
    MAX_OCCURRENCES,
    RecurrenceError,
    recurrence_check,
    recurrence_expand,
)

PARIS = ZoneInfo("Europe/Paris")
BOMB = "FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4;BYHOUR=1"
SLOW = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
#: Rules that can never occur, which only a search can tell (Monday 1 January never in June…).
NEVER = {
    "the bomb": BOMB,
    "30 February": SLOW,
    "31 April": "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
    "31 of short months": "FREQ=MONTHLY;BYMONTH=2,4,6,9,11;BYMONTHDAY=31",
    "week 1 in June": "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6",
    "day 1 of the year in February": "FREQ=YEARLY;BYYEARDAY=1;BYMONTH=2",
    "day 1 of the year in February, daily": "FREQ=DAILY;BYYEARDAY=1;BYMONTH=2",
    "Mondays every 7 days from a Tuesday": "FREQ=DAILY;INTERVAL=7;BYDAY=MO",
}
TUESDAY = datetime(2030, 1, 1, 18, 0, tzinfo=PARIS)


def _elapsed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# --- the validator (pure) --------------------------------------------------------------------


@pytest.mark.parametrize("rule", NEVER.values(), ids=NEVER.keys())
def test_recurrence_expand_refuses_a_rule_that_never_occurs_at_once(rule):
    def expand():
        with pytest.raises(RecurrenceError):
            recurrence_expand(rule=rule, dtstart=TUESDAY)

    assert _elapsed(expand) < 2.0  # milliseconds; unguarded, dateutil searches for years


BAD = {
    "secondly": ("FREQ=SECONDLY", "FREQ"),
    "hourly": ("FREQ=HOURLY;COUNT=3", "FREQ"),
    "no frequency": ("COUNT=3", "FREQ"),
    "unknown part": ("FREQ=DAILY;BYEASTER=0", "BYEASTER"),
    "twice the same part": ("FREQ=DAILY;FREQ=WEEKLY", "FREQ"),
    "huge interval": ("FREQ=DAILY;INTERVAL=99999999999999999999", "INTERVAL"),
    "zero interval": ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
    "huge count": ("FREQ=DAILY;COUNT=1000000", "COUNT"),
    "count and until": ("FREQ=DAILY;COUNT=3;UNTIL=20300101T000000Z", "UNTIL"),
    "month 13": ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
    "day 0": ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY"),
    "day 32": ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
    "hour 24": ("FREQ=DAILY;BYHOUR=24", "BYHOUR"),
    "second": ("FREQ=DAILY;BYSECOND=1", "BYSECOND"),
    "ordinal weekday in a weekly rule": ("FREQ=WEEKLY;BYDAY=2MO", "BYDAY"),
    "weekday 6th": ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY"),
    "week number outside a yearly rule": ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO"),
    "year day in a monthly rule": ("FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY"),
    "unknown weekday": ("FREQ=WEEKLY;BYDAY=XX", "BYDAY"),
    "empty value": ("FREQ=WEEKLY;BYDAY=", "BYDAY"),
    "floating until": ("FREQ=DAILY;UNTIL=20300101T000000", "UNTIL"),
    "until in year 0": ("FREQ=DAILY;UNTIL=00000101T000000Z", "UNTIL"),
    "prefix": ("RRULE:FREQ=DAILY", "RRULE"),
    "two lines": ("FREQ=DAILY\nFREQ=WEEKLY", "FREQ"),
    "huge list": ("FREQ=YEARLY;BYYEARDAY=" + ",".join(["1"] * 2000), "BYYEARDAY"),
}


@pytest.mark.parametrize(("rule", "named"), BAD.values(), ids=BAD.keys())
def test_recurrence_check_refuses_with_a_french_message_and_no_python_text(rule, named):
    with pytest.raises(RecurrenceError) as refused:
        recurrence_check(rule)

    message = str(refused.value)
    assert named in message or "règle" in message.lower(), message
    for python_text in ("Error", "invalid literal", "Traceback", "int()", "argument"):
        assert python_text not in message


GOOD = {
    "weekly, 3 times": ("FREQ=WEEKLY;COUNT=3", 3),
    "every second Saturday, 4 times": ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=4", 4),
    "first Monday of the month, 6 times": ("FREQ=MONTHLY;BYDAY=1MO;COUNT=6", 6),
    "last weekday of the month": ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=5", 5),
    "daily until": ("FREQ=DAILY;UNTIL=20300105T230000Z", 5),
    "yearly": ("FREQ=YEARLY;COUNT=2", 2),
    "two sessions on Saturdays": ("FREQ=WEEKLY;BYDAY=SA;BYHOUR=10,15;COUNT=4", 4),
}


@pytest.mark.parametrize(("rule", "count"), GOOD.values(), ids=GOOD.keys())
def test_recurrence_expand_gives_the_occurrences_of_an_ordinary_rule(rule, count):
    recurrence_check(rule)
    starts = recurrence_expand(rule=rule, dtstart=TUESDAY)

    assert len(starts) == count
    assert starts == sorted(starts)
    assert all(start.tzinfo is not None for start in starts)


def test_recurrence_expand_stops_at_the_horizon_and_the_cap():
    endless = recurrence_expand(rule="FREQ=WEEKLY", dtstart=TUESDAY)
    daily = recurrence_expand(rule="FREQ=DAILY", dtstart=TUESDAY)

    assert endless[-1] <= TUESDAY + timedelta(days=2 * 366)
    assert len(daily) == MAX_OCCURRENCES


def test_recurrence_expand_keeps_local_time_across_daylight_saving():
    start = datetime(2027, 3, 20, 8, 0, tzinfo=PARIS)  # DST starts on 28 March 2027
    starts = recurrence_expand(rule="FREQ=WEEKLY;COUNT=3", dtstart=start)

    assert [(s.day, s.hour) for s in starts] == [(20, 8), (27, 8), (3, 8)]


def test_recurrence_expand_of_a_rule_ending_before_its_start_is_refused():
    with pytest.raises(RecurrenceError, match="aucune date"):
        recurrence_expand(rule="FREQ=DAILY;UNTIL=20000101T000000Z", dtstart=TUESDAY)


def test_recurrence_expand_finds_a_rare_but_possible_rule():
    # 29 February: the next one after 1 January 2030 is in 2032, within the horizon? No: 2 years.
    start = datetime(2031, 1, 1, 10, 0, tzinfo=PARIS)
    starts = recurrence_expand(rule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", dtstart=start)

    assert starts[0].date().isoformat() == "2032-02-29"


def test_recurrence_expand_accepts_utc_until():
    until = datetime(2030, 1, 3, 17, 0, tzinfo=UTC)
    starts = recurrence_expand(rule=f"FREQ=DAILY;UNTIL={until:%Y%m%dT%H%M%SZ}", dtstart=TUESDAY)

    assert len(starts) == 3
