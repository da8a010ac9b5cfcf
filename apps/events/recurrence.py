"""Recurrence rules (RFC 5545 RRULE): parsed, checked and expanded by bounded work; no ORM.

Why bounded: dateutil looks for the next occurrence period after period, up to the year 9999,
and checks ``UNTIL`` and ``COUNT`` only on occurrences. A rule that never occurs
(``FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4``) therefore ran for minutes, and a daily one
(``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) for seconds, whatever cap was put on occurrences.

Here, in order, each step bounded:

1. ``recurrence_parse`` reads the rule itself (at most ``MAX_RULE_LENGTH`` characters, each
   part once, known parts only): frequencies DAILY to YEARLY, every number within its RFC range
   (``INTERVAL`` ≤ ``MAX_INTERVAL``, ``COUNT`` ≤ ``MAX_OCCURRENCES``), ``UNTIL`` in UTC, and
   the RFC's restrictions (``BYWEEKNO``/``BYYEARDAY`` only yearly, ordinals in ``BYDAY`` only
   monthly or yearly…);
2. ``recurrence_check`` adds what can be told without a start: days that exist in no month
   asked for (30 February, 31 April, a year day outside the months);
3. ``recurrence_expand`` runs dateutil on a subclass whose iteration stops at the first month
   past the horizon (``HORIZON`` after the start), so its work is bounded by periods, not by
   occurrences; a rule with no date in that window is refused, which also catches every rule
   that can never occur from that start.

Messages are French, for the editor, and never carry Python's text.
"""

from __future__ import annotations

import calendar
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dateutil.rrule as _dateutil
from django.utils.translation import gettext as _

#: Recurrences are expanded this far after their start, and at most this many times.
HORIZON = timedelta(days=2 * 366)
MAX_OCCURRENCES = 366
MAX_RULE_LENGTH = 300
MAX_INTERVAL = 366

FREQUENCIES = {
    "DAILY": _dateutil.DAILY,
    "WEEKLY": _dateutil.WEEKLY,
    "MONTHLY": _dateutil.MONTHLY,
    "YEARLY": _dateutil.YEARLY,
}
WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
#: BYxxx parts with their dateutil keyword and the absolute range of their values.
_NUMBER_LISTS = {
    "BYMONTH": ("bymonth", 1, 12, False),
    "BYMONTHDAY": ("bymonthday", 1, 31, True),
    "BYYEARDAY": ("byyearday", 1, 366, True),
    "BYWEEKNO": ("byweekno", 1, 53, True),
    "BYSETPOS": ("bysetpos", 1, 366, True),
    "BYHOUR": ("byhour", 0, 23, False),
    "BYMINUTE": ("byminute", 0, 59, False),
}
_KNOWN = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST", *_NUMBER_LISTS}
_INTEGER = re.compile(r"[+-]?\d{1,3}")
_BYDAY = re.compile(r"([+-]?\d{1,2})?([A-Z]{2})")
_UNTIL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?")


class RecurrenceError(ValueError):
    """A refused rule; its text is a French message for the editor."""

    def __init__(self, message: str, *, code: str = "invalid_rrule") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Recurrence:
    """A parsed rule: the frequency and dateutil's keyword arguments, every value in range."""

    freq: int
    options: dict[str, Any] = field(default_factory=dict)


def _invalid(detail: str) -> RecurrenceError:
    return RecurrenceError(_("Règle de récurrence invalide : %(d)s") % {"d": detail})


def _integers(name: str, value: str, low: int, high: int, signed: bool) -> tuple[int, ...]:
    numbers = []
    for item in value.split(","):
        if not _INTEGER.fullmatch(item):
            raise _invalid(_("%(n)s attend des nombres séparés par des virgules.") % {"n": name})
        number = int(item)
        if not (low <= abs(number) <= high) or (number < 0 and not signed):
            raise _invalid(
                _("les valeurs de %(n)s vont de %(lo)s à %(hi)s.")
                % {"n": name, "lo": -high if signed else low, "hi": high}
            )
        numbers.append(number)
    return tuple(sorted(set(numbers)))


def _until(value: str) -> datetime:
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise _invalid(_("UNTIL s'écrit AAAAMMJJTHHMMSSZ, ex. UNTIL=20300630T220000Z."))
    if not match.group(7):
        # Events start at aware datetimes: RFC 5545 then wants UNTIL in UTC.
        raise RecurrenceError(
            _("UNTIL doit être en UTC, ex. UNTIL=20300630T220000Z."), code="until_utc"
        )
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise _invalid(_("UNTIL n'est pas une date valide.")) from None


def _weekdays(value: str, freq: int, has_weekno: bool) -> tuple[Any, ...]:
    days = []
    for item in value.split(","):
        match = _BYDAY.fullmatch(item)
        if match is None or match.group(2) not in WEEKDAYS:
            raise _invalid(_("BYDAY attend des jours MO, TU, WE, TH, FR, SA, SU (ex. 1MO, -1FR)."))
        weekday = _dateutil.weekday(WEEKDAYS[match.group(2)])
        if match.group(1) is None:
            days.append(weekday)
            continue
        ordinal = int(match.group(1))
        high = {_dateutil.MONTHLY: 5, _dateutil.YEARLY: 53}.get(freq)
        if high is None or (freq == _dateutil.YEARLY and has_weekno):
            raise _invalid(
                _("un rang dans BYDAY (ex. 1MO) demande FREQ=MONTHLY ou YEARLY sans BYWEEKNO.")
            )
        if not 1 <= abs(ordinal) <= high:
            raise _invalid(_("le rang dans BYDAY va de -%(h)d à %(h)d, sans 0.") % {"h": high})
        days.append(weekday(ordinal))
    return tuple(days)


def recurrence_parse(rule: str) -> Recurrence:
    """Parse ``rule`` (without the ``RRULE:`` prefix); ``RecurrenceError`` when refused."""
    if len(rule) > MAX_RULE_LENGTH:
        raise _invalid(_("la règle dépasse %(n)d caractères.") % {"n": MAX_RULE_LENGTH})
    if rule.upper().startswith(("RRULE:", "DTSTART")) or "\n" in rule or "\r" in rule:
        raise RecurrenceError(_("Indiquez seulement la règle, ex. FREQ=WEEKLY;COUNT=10."))
    parts: dict[str, str] = {}
    for part in rule.upper().split(";"):
        name, equals, value = part.partition("=")
        if not equals or not value:
            raise _invalid(_("chaque partie s'écrit NOM=VALEUR (%(p)s).") % {"p": part[:20]})
        if name not in _KNOWN:
            raise _invalid(_("partie non prise en charge : %(p)s.") % {"p": name[:20]})
        if name in parts:
            raise _invalid(_("%(p)s apparaît deux fois.") % {"p": name})
        parts[name] = value
    freq = FREQUENCIES.get(parts.get("FREQ", ""))
    if freq is None:
        raise _invalid(_("FREQ doit être DAILY, WEEKLY, MONTHLY ou YEARLY."))
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid(_("COUNT et UNTIL ne vont pas ensemble : choisissez l'un des deux."))
    options: dict[str, Any] = {}
    if "INTERVAL" in parts:
        (options["interval"],) = _integers("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL, False)
    if "COUNT" in parts:
        (options["count"],) = _integers("COUNT", parts["COUNT"], 1, MAX_OCCURRENCES, False)
    if "UNTIL" in parts:
        options["until"] = _until(parts["UNTIL"])
    if "WKST" in parts:
        if parts["WKST"] not in WEEKDAYS:
            raise _invalid(_("WKST est un jour : MO, TU, WE, TH, FR, SA ou SU."))
        options["wkst"] = WEEKDAYS[parts["WKST"]]
    for name, (keyword, low, high, signed) in _NUMBER_LISTS.items():
        if name in parts:
            options[keyword] = _integers(name, parts[name], low, high, signed)
    if "BYDAY" in parts:
        options["byweekday"] = _weekdays(parts["BYDAY"], freq, "BYWEEKNO" in parts)
    only = {
        "BYWEEKNO": freq == _dateutil.YEARLY,
        "BYYEARDAY": freq == _dateutil.YEARLY,
        "BYMONTHDAY": freq != _dateutil.WEEKLY,
        "BYSETPOS": len(set(parts) & {*_NUMBER_LISTS, "BYDAY"}) > 1,
    }
    for name, allowed in only.items():
        if name in parts and not allowed:
            raise _invalid(
                _("%(p)s ne s'emploie pas avec FREQ=%(f)s ou sans autre partie BY….")
                % {"p": name, "f": parts["FREQ"]}
            )
    return Recurrence(freq=freq, options=options)


def _month_days(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _never_occurs(recurrence: Recurrence) -> bool:
    """Whether the rule asks only for days no calendar has (30 February, 31 April…)."""
    options = recurrence.options
    months = options.get("bymonth") or tuple(range(1, 13))
    monthdays = options.get("bymonthday")
    if monthdays and not any(abs(d) <= _month_days(m) for m in months for d in monthdays):
        return True
    yeardays = options.get("byyearday")
    if yeardays and "bymonth" in options:
        in_months = set()
        for year in (2024, 2025):  # a leap year and a common one
            length = 366 if calendar.isleap(year) else 365
            for day in yeardays:
                ordinal = day if day > 0 else length + 1 + day
                if 1 <= ordinal <= length:
                    in_months.add((date(year, 1, 1) + timedelta(days=ordinal - 1)).month)
        if not in_months & set(months):
            return True
    return False


def recurrence_check(rule: str) -> Recurrence:
    """Parse ``rule`` and refuse what can be seen to never occur, whatever the start."""
    recurrence = recurrence_parse(rule)
    if _never_occurs(recurrence):
        raise RecurrenceError(
            _("Règle de récurrence impossible : aucun jour ne correspond (ex. 30 février)."),
            code="never",
        )
    return recurrence


class _PastHorizonError(Exception):
    """Raised inside dateutil's loop when it moves to a month past the horizon."""


class _BoundedIterInfo(_dateutil._iterinfo):
    """dateutil's per-iteration calendar, which refuses to move past the rule's last month.

    dateutil rebuilds it at every new month (and every period of monthly and yearly rules), so
    refusing there bounds the loop by the horizon even when no period yields an occurrence.
    """

    __slots__ = ()

    def __init__(self, rule: _BoundedRule) -> None:
        for attr in _dateutil._iterinfo.__slots__:
            setattr(self, attr, None)
        self.rrule = rule  # type: ignore[misc]

    def rebuild(self, year: int, month: int) -> None:
        if (year, month) > self.rrule.last_month:
            raise _PastHorizonError
        super().rebuild(year, month)


#: dateutil's own ``rrule._iter``, reading ``_BoundedIterInfo`` instead of ``_iterinfo``.
_bounded_iter = types.FunctionType(
    _dateutil.rrule._iter.__code__,
    {**vars(_dateutil), "_iterinfo": _BoundedIterInfo},
    "_iter",
)


class _BoundedRule(_dateutil.rrule):
    """A dateutil rule that ends at the first month after ``last_month``."""

    def __init__(self, *args: Any, last_month: tuple[int, int], **kwargs: Any) -> None:
        self.last_month = last_month
        super().__init__(*args, **kwargs)

    def _iter(self) -> Iterator[datetime]:
        try:
            yield from _bounded_iter(self)
        except _PastHorizonError:
            return


def recurrence_expand(
    *, rule: str, dtstart: datetime, horizon: timedelta = HORIZON, limit: int = MAX_OCCURRENCES
) -> list[datetime]:
    """The starts of ``rule`` from ``dtstart`` (aware) within ``horizon``, at most ``limit``.

    Expanded in ``dtstart``'s time zone, so a weekly 18:00 stays at 18:00 across
    daylight-saving changes. ``RecurrenceError`` when the rule is refused or gives no date.
    """
    recurrence = recurrence_check(rule)
    try:
        end = dtstart + horizon
    except OverflowError:
        raise _invalid(_("le début est trop loin dans le temps.")) from None
    bounded = _BoundedRule(
        recurrence.freq, dtstart=dtstart, last_month=(end.year, end.month), **recurrence.options
    )
    starts: list[datetime] = []
    for start in bounded:
        if start > end or len(starts) >= limit:
            break
        starts.append(start)
    if not starts:
        raise RecurrenceError(
            _(
                "La règle de récurrence ne produit aucune date dans les %(n)d jours qui "
                "suivent le début."
            )
            % {"n": horizon.days},
            code="no_date",
        )
    return starts
