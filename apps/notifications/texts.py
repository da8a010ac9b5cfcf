"""What a push says, in each language the app speaks (French first, English).

Texts are written once per notification (``Notification.texts``) and picked by each device's
language when sent. Each kind has one short template, a French msgid translated by the gettext
catalogues (``locale/<lang>/LC_MESSAGES/django.po``) like every other string of ours. Dates are
spelled out by Babel (CLDR) in the city's time zone ("sam. 5 déc. à 14:30", "Sat 5 Dec at 14:30").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _

from apps.core.models import PublishableContent

LANGUAGES: tuple[str, ...] = tuple(code for code, _name in settings.LANGUAGES)
TITLE_MAX = 120
BODY_MAX = 400

#: What a push says: French msgids, translated by the gettext catalogues (locale/).
T: dict[str, StrPromise] = {
    "updated": _("Mis à jour : {title}"),
    "cancelled": _("Annulé : {title}"),
    "postponed": _("Reporté : {title}"),
    "rescheduled": _("Nouvelle date : {title}"),
    "works_cancelled": _("Chantier annulé : {title}"),
    "change_dates": _("Nouvelles dates : {when}."),
    "change_place": _("Le lieu a changé."),
    "change_state": _("Circulation : {state}."),
    "change_generic": _("Les informations ont changé."),
    "event_reminder": _("Bientôt : {title}"),
    "event_reminder_body": _("{when}{venue}. Vous l'avez enregistré."),
    "works_reminder": _("Travaux demain près de chez vous"),
    "works_reminder_body": _("{title} — à partir du {when}."),
    "digest_title": _("{n} autres informations aujourd'hui"),
    "digest_one": _("1 autre information aujourd'hui"),
    "digest_week_title": _("{n} autres informations cette semaine"),
    "digest_week_one": _("1 autre information cette semaine"),
    "test_title": _("Notification de test"),
    "test_body": _("Si vous lisez ceci, les notifications de Quartier fonctionnent."),
    # Translators: a day and a time in a push, "sam. 5 déc. à 14:30".
    "at": _("{day} à {time}"),
    "from_to": _("du {start} au {end}"),
}

_ROAD_STATE: dict[str, StrPromise] = {
    "closed": _("route fermée"),
    "some_lanes_closed": _("voies réduites"),
    "single_lane_alternating": _("circulation alternée"),
    "all_lanes_open": _("circulation maintenue"),
}


def in_language(language: str, wording: StrPromise) -> str:
    """``wording`` (a lazy French msgid) in ``language``, from the gettext catalogues."""
    with translation.override(language):
        return str(wording)


def _tr(language: str, key: str) -> str:
    return in_language(language, T[key])


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
    day = format_date(local, "EEE d MMM", locale=language)
    if not with_time:
        return day
    return _tr(language, "at").format(day=day, time=f"{local:%H:%M}")


def _period(item: Any, language: str) -> str:
    with_time = getattr(item, "has_start_time", True) is not False
    start = when(item.start_at, language, with_time=with_time)
    end_at = getattr(item, "end_at", None)
    if end_at is None:
        return start
    end = when(end_at, language, with_time=getattr(item, "has_end_time", True) is not False)
    if end == start:
        return start
    return _tr(language, "from_to").format(start=start, end=end)


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
        t = {key: in_language(lang, wording) for key, wording in T.items()}
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
        if "road_state" in changes and road_state in _ROAD_STATE:
            lines.append(t["change_state"].format(state=in_language(lang, _ROAD_STATE[road_state])))
        if not lines and head == t["updated"].format(title=title):
            lines.append(t["change_generic"])
        return head, " ".join(lines) or _body(item, lang)

    return _texts(build)


def event_reminder_texts(item: Any, start_at: datetime) -> dict[str, dict[str, str]]:
    """A saved event's occurrence starting at ``start_at`` comes up soon."""
    venue = item.venue.name if getattr(item, "venue_id", None) else ""

    def build(lang: str) -> tuple[str, str]:
        body = _tr(lang, "event_reminder_body").format(
            when=when(start_at, lang, with_time=item.has_start_time),
            venue=f", {venue}" if venue else "",
        )
        return _tr(lang, "event_reminder").format(title=translated(item, "title", lang)), body

    return _texts(build)


def works_reminder_texts(item: Any) -> dict[str, dict[str, str]]:
    def build(lang: str) -> tuple[str, str]:
        body = _tr(lang, "works_reminder_body").format(
            title=translated(item, "title", lang), when=when(item.start_at, lang)
        )
        return _tr(lang, "works_reminder"), body

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
        head = _tr(lang, one) if n == 1 else _tr(lang, many).format(n=n)
        return head, " · ".join(names)

    return _texts(build)


#: The mark of a drill, before every text (title and body) in every language: the word the
#: French civil-protection plans use, so that a resident never takes a drill for the real thing.
DRILL_PREFIX = "EXERCICE"


def drill_text(text: str, limit: int) -> str:
    """``text`` marked as a drill (once): ``EXERCICE — …``."""
    if text.startswith(DRILL_PREFIX):
        return text
    return _clip(f"{DRILL_PREFIX} — {text}" if text else DRILL_PREFIX, limit)


def drill_texts(texts_: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every title and body of ``texts_`` prefixed ``EXERCICE``."""
    return {
        language: {
            "title": drill_text(text.get("title", ""), TITLE_MAX),
            "body": drill_text(text.get("body", ""), BODY_MAX),
        }
        for language, text in texts_.items()
    }


def test_texts() -> dict[str, dict[str, str]]:
    return _texts(lambda lang: (_tr(lang, "test_title"), _tr(lang, "test_body")))


_PLACE_LABELS: dict[str, StrPromise] = {
    "home": _("Domicile"),
    "work": _("Travail"),
    "school": _("École"),
    "other": _("Lieu"),
}
_WHY: dict[str, StrPromise] = {
    "place": _("{distance} de {place}"),
    "place_inside": _("Près de « {place} »"),
    "area": _("Vous suivez {area}"),
    "category": _("Vous suivez {category}"),
    "urgency": _("Information importante"),
    "alert": _("Alerte"),
    "saved": _("Vous l'avez enregistré"),
    "home": _("Près de votre domicile"),
    "digest": _("Plafond quotidien atteint : résumé"),
    "test": _("Test envoyé par la mairie"),
    "city": _("Toute la ville"),
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
    language = language if language in LANGUAGES else "fr"
    w = {key: in_language(language, wording) for key, wording in _WHY.items()}
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
        label_code = str(place.get("label"))
        label = place.get("name") or (
            in_language(language, _PLACE_LABELS[label_code]) if label_code in _PLACE_LABELS else ""
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
