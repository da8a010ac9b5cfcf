"""The admin's recurrence picker: editors choose, this module writes the RRULE; no ORM.

The picker offers what a city's events need — none, every N days, every N weeks on chosen
days, every N months on a date or on the n-th weekday, every N years — ending after N times,
on a date, or not at all (dates are then materialised for ``recurrence.HORIZON``). The RRULE
stays the storage and API format; ``picker_rule`` builds it from the picker's fields, each one
checked with a French message, and the result goes through ``recurrence_check`` like any rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from django.utils.translation import gettext as _

from apps.events.recurrence import MAX_INTERVAL, MAX_OCCURRENCES, WEEKDAYS, RecurrenceError

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
#: The n-th weekday of the month: 1st to 4th, or the last (-1).
POSITIONS = (1, 2, 3, 4, -1)


class PickerError(RecurrenceError):
    """A picker field out of range; ``field`` names it for the widget."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, code="invalid_picker")
        self.field = field


@dataclass(frozen=True)
class PickerChoice:
    freq: str  # "" (no recurrence) or one of FREQUENCIES
    interval: int = 1
    weekdays: tuple[str, ...] = ()  # WEEKLY: MO…SU
    monthly: str = "date"  # MONTHLY: "date" (the start's day) or "weekday" (n-th weekday)
    position: int = 1  # MONTHLY by weekday: 1…4 or -1
    weekday: str = "MO"  # MONTHLY by weekday
    end: str = "count"  # "count", "until" or "never"
    count: int = 1
    until: date | None = None


def _integer(data: Mapping[str, str], name: str, low: int, high: int, label: str) -> int:
    raw = (data.get(name) or "").strip()
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise PickerError(
            _("%(label)s : un nombre entier de %(low)d à %(high)d.")
            % {"label": label, "low": low, "high": high},
            field=name,
        )
    return int(raw)


def picker_choice(data: Mapping[str, str], weekdays: list[str]) -> PickerChoice:
    """The picker's fields as sent by the widget (``pick_*`` names), each one checked."""
    freq = (data.get("pick_freq") or "").strip()
    if freq == "":
        return PickerChoice(freq="")
    if freq not in FREQUENCIES:
        raise PickerError(_("Fréquence inconnue."), field="pick_freq")
    interval = _integer(data, "pick_interval", 1, MAX_INTERVAL, _("Intervalle"))
    days = tuple(day for day in WEEKDAYS if day in weekdays)
    if len(days) != len(set(weekdays)):
        raise PickerError(_("Jour de la semaine inconnu."), field="pick_byday")
    if freq == "WEEKLY" and not days:
        raise PickerError(_("Cochez au moins un jour de la semaine."), field="pick_byday")
    monthly = data.get("pick_monthly") or "date"
    if monthly not in ("date", "weekday"):
        raise PickerError(_("Choisissez un jour du mois."), field="pick_monthly")
    position, weekday = 1, "MO"
    if freq == "MONTHLY" and monthly == "weekday":
        raw_position = (data.get("pick_position") or "").strip()
        if raw_position not in {str(rank) for rank in POSITIONS}:
            raise PickerError(_("Rang dans le mois : 1er à 4e, ou dernier."), field="pick_position")
        position = int(raw_position)
        weekday = data.get("pick_weekday") or ""
        if weekday not in WEEKDAYS:
            raise PickerError(_("Jour de la semaine inconnu."), field="pick_weekday")
    end = data.get("pick_end") or "count"
    count, until = 1, None
    if end == "count":
        count = _integer(data, "pick_count", 1, MAX_OCCURRENCES, _("Nombre de dates"))
    elif end == "until":
        try:
            until = date.fromisoformat((data.get("pick_until") or "").strip())
        except ValueError:
            raise PickerError(
                _("Date de fin de la récurrence : une date (AAAA-MM-JJ)."), field="pick_until"
            ) from None
    elif end != "never":
        raise PickerError(_("Choisissez comment la récurrence se termine."), field="pick_end")
    return PickerChoice(
        freq=freq,
        interval=interval,
        weekdays=days,
        monthly=monthly,
        position=position,
        weekday=weekday,
        end=end,
        count=count,
        until=until,
    )


def picker_rule(choice: PickerChoice, *, tz: tzinfo) -> str:
    """The RRULE of ``choice`` ("" for none). ``UNTIL`` is the end of the chosen day in the
    city's time zone, written in UTC as RFC 5545 requires with a zoned start."""
    if not choice.freq:
        return ""
    parts = [f"FREQ={choice.freq}"]
    if choice.interval != 1:
        parts.append(f"INTERVAL={choice.interval}")
    if choice.freq == "WEEKLY":
        parts.append("BYDAY=" + ",".join(choice.weekdays))
    if choice.freq == "MONTHLY" and choice.monthly == "weekday":
        parts.append(f"BYDAY={choice.position}{choice.weekday}")
    if choice.end == "count":
        parts.append(f"COUNT={choice.count}")
    elif choice.end == "until" and choice.until is not None:
        last = datetime.combine(choice.until, time(23, 59, 59), tzinfo=tz).astimezone(UTC)
        parts.append(f"UNTIL={last:%Y%m%dT%H%M%SZ}")
    return ";".join(parts)
