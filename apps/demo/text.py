"""French and English wording of dates for the demo texts (Babel's CLDR names); no ORM."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time, timedelta

from babel.dates import format_date

#: ``{date:9}`` / ``{date_en:-2}`` in a text: the day that many days from today.
DATE_TOKEN = re.compile(r"\{(date|date_en):(-?\d+)\}")


def date_fr(day: date) -> str:
    """``jeudi 12 décembre`` (``1er`` for the first of the month)."""
    # CLDR has no ordinal day pattern: the French "premier" is written by hand.
    return format_date(day, "EEEE '1er' MMMM" if day.day == 1 else "EEEE d MMMM", locale="fr")


def date_en(day: date) -> str:
    """``Thursday 12 December``."""
    return format_date(day, "EEEE d MMMM", locale="en")


def time_fr(moment: time) -> str:
    """``7 h 30``, ``21 h`` (French typography)."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def time_en(moment: time) -> str:
    """``7:30 am``, ``9 pm``."""
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def span_fr(first: date, last: date) -> str:
    """``du lundi 3 au vendredi 21 mars`` or ``le jeudi 12 décembre``."""
    if first == last:
        return f"le {date_fr(first)}"
    return f"du {date_fr(first)} au {date_fr(last)}"


def span_en(first: date, last: date) -> str:
    if first == last:
        return f"on {date_en(first)}"
    return f"from {date_en(first)} to {date_en(last)}"


#: Kinds of French streets that take a feminine article (``la rue``, ``l'avenue``).
FEMININE_STREETS = ("rue", "avenue", "route", "montée", "place", "allée", "impasse")


def street_with_article(street: str) -> str:
    """``la rue Pasteur``, ``l'avenue Jean-Jaurès``, ``le boulevard Victor-Hugo``."""
    if street[:1].lower() in "aeiouyéèh":
        return f"l'{street}"
    feminine = street.split(" ", 1)[0].lower() in FEMININE_STREETS
    return f"{'la' if feminine else 'le'} {street}"


def with_dates(text: str, today: date) -> str:
    """Replace the ``{date:N}`` and ``{date_en:N}`` tokens of ``text``, relative to ``today``."""
    wording: dict[str, Callable[[date], str]] = {"date": date_fr, "date_en": date_en}

    def replace(match: re.Match[str]) -> str:
        return wording[match.group(1)](today + timedelta(days=int(match.group(2))))

    return DATE_TOKEN.sub(replace, text)
