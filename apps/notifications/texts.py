"""What a push says, in each language the app speaks (French first, English).

Texts are written once per notification (``Notification.texts``) and picked by each device's
language when sent. The strings live here rather than in gettext catalogs: a push is read on a
lock screen, so each kind has one short, hand-written template per language. Dates are spelled
out in the city's time zone ("sam. 5 déc. à 14:30", "Sat 5 Dec at 14:30").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from apps.core.models import PublishableContent

LANGUAGES: tuple[str, ...] = tuple(code for code, _name in settings.LANGUAGES)
TITLE_MAX = 120
BODY_MAX = 400

_WEEKDAYS = {
    "fr": ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
_MONTHS = {
    "fr": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}

T: dict[str, dict[str, str]] = {
    "fr": {
        "updated": "Mis à jour : {title}",
        "cancelled": "Annulé : {title}",
        "postponed": "Reporté : {title}",
        "rescheduled": "Nouvelle date : {title}",
        "works_cancelled": "Chantier annulé : {title}",
        "change_dates": "Nouvelles dates : {when}.",
        "change_place": "Le lieu a changé.",
        "change_state": "Circulation : {state}.",
        "change_generic": "Les informations ont changé.",
        "event_reminder": "Bientôt : {title}",
        "event_reminder_body": "{when}{venue}. Vous l'avez enregistré.",
        "works_reminder": "Travaux demain près de chez vous",
        "works_reminder_body": "{title} — à partir du {when}.",
        "digest_title": "{n} autres informations aujourd'hui",
        "digest_one": "1 autre information aujourd'hui",
        "digest_week_title": "{n} autres informations cette semaine",
        "digest_week_one": "1 autre information cette semaine",
        "test_title": "Notification de test",
        "test_body": "Si vous lisez ceci, les notifications de Quartier fonctionnent.",
        "at": "à",
        "from_to": "du {start} au {end}",
    },
    "en": {
        "updated": "Updated: {title}",
        "cancelled": "Cancelled: {title}",
        "postponed": "Postponed: {title}",
        "rescheduled": "New date: {title}",
        "works_cancelled": "Roadworks cancelled: {title}",
        "change_dates": "New dates: {when}.",
        "change_place": "The location has changed.",
        "change_state": "Traffic: {state}.",
        "change_generic": "The details have changed.",
        "event_reminder": "Coming up: {title}",
        "event_reminder_body": "{when}{venue}. You saved it.",
        "works_reminder": "Roadworks near your home tomorrow",
        "works_reminder_body": "{title} — from {when}.",
        "digest_title": "{n} more updates today",
        "digest_one": "1 more update today",
        "digest_week_title": "{n} more updates this week",
        "digest_week_one": "1 more update this week",
        "test_title": "Test notification",
        "test_body": "If you can read this, Quartier notifications work.",
        "at": "at",
        "from_to": "{start} to {end}",
    },
}

_ROAD_STATE = {
    "fr": {
        "closed": "route fermée",
        "some_lanes_closed": "voies réduites",
        "single_lane_alternating": "circulation alternée",
        "all_lanes_open": "circulation maintenue",
    },
    "en": {
        "closed": "road closed",
        "some_lanes_closed": "lanes closed",
        "single_lane_alternating": "alternating single lane",
        "all_lanes_open": "all lanes open",
    },
}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def translated(item: Any, field: str, language: str) -> str:
    """``item.<field>_<language>``, falling back to French, then to the plain field."""
    for name in (f"{field}_{language}", f"{field}_fr", field):
        value = getattr(item, name, None)
        if value:
            return str(value)
    return ""


def when(moment: datetime, language: str, *, with_time: bool = True) -> str:
    """``sam. 5 déc. à 14:30`` / ``Sat 5 Dec at 14:30`` in the city's time zone."""
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    day = f"{_WEEKDAYS[language][local.weekday()]} {local.day} {_MONTHS[language][local.month - 1]}"
    if not with_time:
        return day
    return f"{day} {T[language]['at']} {local:%H:%M}"


def _period(item: Any, language: str) -> str:
    with_time = getattr(item, "has_start_time", True) is not False
    start = when(item.start_at, language, with_time=with_time)
    end_at = getattr(item, "end_at", None)
    if end_at is None:
        return start
    end = when(end_at, language, with_time=getattr(item, "has_end_time", True) is not False)
    if end == start:
        return start
    return T[language]["from_to"].format(start=start, end=end)


def _body(item: Any, language: str) -> str:
    return translated(item, "summary", language) or translated(item, "body", language)


def _texts(build: Any) -> dict[str, dict[str, str]]:
    result = {}
    for language in LANGUAGES:
        title, body = build(language)
        result[language] = {"title": _clip(title, TITLE_MAX), "body": _clip(body, BODY_MAX)}
    return result


def new_texts(item: PublishableContent) -> dict[str, dict[str, str]]:
    """A publication: the item's title and summary."""
    return _texts(lambda lang: (translated(item, "title", lang), _body(item, lang)))


def update_texts(item: PublishableContent, changes: Sequence[str]) -> dict[str, dict[str, str]]:
    """A material change: the title says what happened, the body what changed."""
    status = getattr(item, "event_status", "") or ""
    work_status = getattr(item, "work_status", "") or ""

    def build(lang: str) -> tuple[str, str]:
        t = T[lang]
        title = translated(item, "title", lang)
        if "event_status" in changes and status in ("cancelled", "postponed", "rescheduled"):
            head = t[status].format(title=title)
        elif "work_status" in changes and work_status == "cancelled":
            head = t["works_cancelled"].format(title=title)
        else:
            head = t["updated"].format(title=title)
        lines = []
        if {"start_at", "end_at", "rrule"} & set(changes) and getattr(item, "start_at", None):
            lines.append(t["change_dates"].format(when=_period(item, lang)))
        if "geometry" in changes:
            lines.append(t["change_place"])
        road_state = str(getattr(item, "road_state", "") or "")
        if "road_state" in changes and road_state in _ROAD_STATE[lang]:
            lines.append(t["change_state"].format(state=_ROAD_STATE[lang][road_state]))
        if not lines and head == t["updated"].format(title=title):
            lines.append(t["change_generic"])
        return head, " ".join(lines) or _body(item, lang)

    return _texts(build)


def event_reminder_texts(item: Any, start_at: datetime) -> dict[str, dict[str, str]]:
    """A saved event's occurrence starting at ``start_at`` comes up soon."""
    venue = item.venue.name if getattr(item, "venue_id", None) else ""

    def build(lang: str) -> tuple[str, str]:
        body = T[lang]["event_reminder_body"].format(
            when=when(start_at, lang, with_time=item.has_start_time),
            venue=f", {venue}" if venue else "",
        )
        return T[lang]["event_reminder"].format(title=translated(item, "title", lang)), body

    return _texts(build)


def works_reminder_texts(item: Any) -> dict[str, dict[str, str]]:
    def build(lang: str) -> tuple[str, str]:
        body = T[lang]["works_reminder_body"].format(
            title=translated(item, "title", lang), when=when(item.start_at, lang)
        )
        return T[lang]["works_reminder"], body

    return _texts(build)


def digest_texts(
    titles: Mapping[str, Iterable[str]], *, weekly: bool = False
) -> dict[str, dict[str, str]]:
    """The day's (or, ``weekly``, the week's) held-back pushes in one: ``titles`` maps a
    language to the items' titles."""
    one, many = (
        ("digest_week_one", "digest_week_title") if weekly else ("digest_one", "digest_title")
    )

    def build(lang: str) -> tuple[str, str]:
        names = list(titles.get(lang) or titles.get("fr") or [])
        n = len(names)
        head = T[lang][one] if n == 1 else T[lang][many].format(n=n)
        return head, " · ".join(names)

    return _texts(build)


def test_texts() -> dict[str, dict[str, str]]:
    return _texts(lambda lang: (T[lang]["test_title"], T[lang]["test_body"]))


_PLACE_LABELS = {
    "fr": {"home": "Domicile", "work": "Travail", "school": "École", "other": "Lieu"},
    "en": {"home": "Home", "work": "Work", "school": "School", "other": "Place"},
}
_WHY = {
    "fr": {
        "place": "{distance} de {place}",
        "place_inside": "Près de « {place} »",
        "area": "Vous suivez {area}",
        "category": "Vous suivez {category}",
        "urgency": "Information importante",
        "alert": "Alerte",
        "saved": "Vous l'avez enregistré",
        "home": "Près de votre domicile",
        "digest": "Plafond quotidien atteint : résumé",
        "test": "Test envoyé par la mairie",
        "city": "Toute la ville",
    },
    "en": {
        "place": "{distance} from {place}",
        "place_inside": "Near {place}",
        "area": "You follow {area}",
        "category": "You follow {category}",
        "urgency": "Important notice",
        "alert": "Alert",
        "saved": "You saved it",
        "home": "Near your home",
        "digest": "Daily limit reached: summary",
        "test": "Test sent by the city",
        "city": "City-wide",
    },
}


def _distance(metres: int, language: str) -> str:
    if metres < 1000:
        return f"{max(0, round(metres, -1))} m"
    km = f"{metres / 1000:.1f}"
    return f"{km.replace('.', ',') if language == 'fr' else km} km"


def why_texts(why: Mapping[str, Any], *, kind: str, category: str, language: str) -> list[str]:
    """The reasons a device received a push, as short phrases ("300 m from Home").

    ``why`` is ``Delivery.why``; ``category`` is the item's category name in ``language``.
    """
    w = _WHY[language if language in _WHY else "fr"]
    if kind == "test":
        return [w["test"]]
    if kind == "digest":
        return [w["digest"]]
    reasons: list[str] = []
    if why.get("saved"):
        reasons.append(w["saved"])
    if why.get("home"):
        reasons.append(w["home"])
    place = why.get("place")
    if isinstance(place, Mapping):
        label = place.get("name") or _PLACE_LABELS.get(language, _PLACE_LABELS["fr"]).get(
            str(place.get("label")), ""
        )
        distance = int(place.get("distance_m") or 0)
        if distance <= 0:
            reasons.append(w["place_inside"].format(place=label))
        else:
            reasons.append(w["place"].format(distance=_distance(distance, language), place=label))
    elif why.get("area"):
        reasons.append(w["area"].format(area=why["area"]))
    if why.get("category") and category:
        reasons.append(w["category"].format(category=category))
    elif not why.get("saved") and not why.get("home"):
        urgency = int(why.get("urgency") or 0)
        if urgency >= 2:
            reasons.append(w["alert"])
        elif urgency >= 1:
            reasons.append(w["urgency"])
    if not reasons:
        reasons.append(w["city"])
    return reasons
