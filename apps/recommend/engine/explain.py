"""Why an item is in the feed: reason codes with texts (French msgids, translated by the caller).

Reasons come from the largest contributions to the item's score (weight x value for stage 1
and linear models), grouped by reason code; a reason is only given when its fact holds for
this item and resident — "350 m de Domicile" only when the item lies inside the radius of the
place labelled "Domicile", "Vous suivez Culture" only when they follow Culture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from apps.recommend.engine.candidates import ALERT, EVENTS, IMPORTANT, WORKS, Candidates
from apps.recommend.engine.context import ResidentContext
from apps.recommend.engine.features import FEATURE_INDEX
from apps.recommend.engine.ranking import Ranking

PARIS = ZoneInfo("Europe/Paris")
NEAR_YOU_M = 2000.0
ON_ROUTE_M = 300.0
POPULAR_COUNT = 5.0
RECENT_S = 2 * 86400.0
INTEREST_AFFINITY = 0.2
INTEREST_TEXT = 0.25

REASON_FEATURES: Mapping[str, tuple[str, ...]] = {
    "urgent": ("urgency_important", "urgency_alert"),
    "near_place": (
        "decay_place_300",
        "decay_place_1000",
        "decay_place_3000",
        "decay_place_personal",
        "inside_place",
    ),
    "near_you": ("decay_point_1000",),
    "on_route": ("route_works",),
    "follows_category": ("followed_category",),
    "follows_area": ("followed_area",),
    "follows_organization": ("followed_organization",),
    "your_interests": (
        "category_affinity",
        "category_ctr_lift",
        "type_affinity",
        "text_similarity",
    ),
    "starts_soon": ("event_starts_soon", "event_ongoing"),
    "active_works": ("works_active", "works_upcoming"),
    "popular": ("popularity",),
    "recent": ("recency_1d", "recency_7d"),
    "city_wide": ("city_wide",),
}
REASON_CODES = tuple(REASON_FEATURES)
#: Each reason's feature columns (``explain`` sums their contributions).
_REASON_COLUMNS = {
    code: [FEATURE_INDEX[name] for name in names] for code, names in REASON_FEATURES.items()
}

#: The context of the reasons' msgids in the gettext catalogues (locale/), spelled out in
#: each ``pgettext`` call below (``makemessages`` reads literals only).
REASON_CONTEXT = "raison du fil"


def pgettext(context: str, text: str) -> str:
    """Marks ``text`` as a French msgid in ``context`` for ``makemessages``, which looks for this
    name; translates nothing. The engine imports no Django: ``explain`` gets the caller's
    ``translate`` (the catalogues' ``pgettext`` in the request's language)."""
    return text


#: What each reason says: French msgids (the source language), translated by the caller.
TEXTS: Mapping[str, str] = {
    "urgent_alert": pgettext("raison du fil", "Alerte"),
    "urgent_important": pgettext("raison du fil", "Important"),
    "near_place": pgettext("raison du fil", "{distance} de {label}"),
    "near_you": pgettext("raison du fil", "À {distance} de vous"),
    "on_route": pgettext("raison du fil", "Sur votre trajet"),
    "follows_category": pgettext("raison du fil", "Vous suivez {name}"),
    "follows_area": pgettext("raison du fil", "Dans {name}, que vous suivez"),
    "follows_organization": pgettext("raison du fil", "Vous suivez {name}"),
    "interest_category": pgettext("raison du fil", "Vous consultez souvent {name}"),
    "interest_text": pgettext("raison du fil", "Proche de ce que vous avez consulté"),
    "ongoing": pgettext("raison du fil", "En cours"),
    "starts_today": pgettext("raison du fil", "Aujourd'hui"),
    "starts_tomorrow": pgettext("raison du fil", "Commence demain"),
    "starts_in_days": pgettext("raison du fil", "Commence dans {days} jours"),
    "works_active": pgettext("raison du fil", "Travaux en cours"),
    "works_today": pgettext("raison du fil", "Début des travaux aujourd'hui"),
    "works_tomorrow": pgettext("raison du fil", "Début des travaux demain"),
    "works_in_days": pgettext("raison du fil", "Début des travaux dans {days} jours"),
    "popular": pgettext("raison du fil", "Populaire en ce moment"),
    "recent": pgettext("raison du fil", "Nouveau"),
    "city_wide": pgettext("raison du fil", "Concerne toute la ville"),
    "this_category": pgettext("raison du fil", "cette catégorie"),
    "this_area": pgettext("raison du fil", "ce quartier"),
    "this_organization": pgettext("raison du fil", "cet organisme"),
    # Why an item is related to the one shown (apps.recommend.related).
    "nearby": pgettext("raison du fil", "À {distance}"),
    "same_organization": pgettext("raison du fil", "Même organisateur : {name}"),
    "similar_text": pgettext("raison du fil", "Sujet proche"),
}
#: The languages whose number formats the reasons know (decimal comma in French).
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


@dataclass(frozen=True)
class Labels:
    """Display names, in the request's language, of the categories, areas, organizations."""

    categories: Mapping[int, str] = field(default_factory=dict)
    areas: Mapping[int, str] = field(default_factory=dict)
    organizations: Mapping[int, str] = field(default_factory=dict)


def format_distance(metres: float, language: str) -> str:
    if metres < 50:
        return "< 50 m"
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    km = f"{metres / 1000:.1f}"
    return f"{km.replace('.', ',') if language == 'fr' else km} km"


def _days_until(start_s: float, now_s: float, tz: tzinfo) -> int:
    start = datetime.fromtimestamp(start_s, tz).date()
    return (start - datetime.fromtimestamp(now_s, tz).date()).days


class _Texts(dict):
    """``TEXTS`` translated on first use: an item list needs a few of them, not all."""

    def __init__(self, translate: Callable[[str, str], str]) -> None:
        super().__init__()
        self.translate = translate

    def __missing__(self, key: str) -> str:
        text = self[key] = self.translate(REASON_CONTEXT, TEXTS[key])
        return text


#: Reasons whose fact is a feature's value being non-zero (``_Explainer.holding``).
_FEATURE_FACTS = {
    "follows_category": "followed_category",
    "follows_organization": "followed_organization",
}


class _Explainer:
    """The facts of one ranking, checked row by row: each method returns a text or ``None``."""

    def __init__(
        self,
        ranking: Ranking,
        c: Candidates,
        ctx: ResidentContext,
        *,
        labels: Labels,
        language: str,
        translate: Callable[[str, str], str],
        tz: tzinfo,
    ) -> None:
        self.r, self.c, self.ctx, self.labels = ranking, c, ctx, labels
        self.t = _Texts(translate)
        self.language, self.tz = language, tz

    def holding(self, code: str, rows: np.ndarray) -> np.ndarray:
        """Where ``code``'s fact may hold among ``rows``: every row where its check gives a
        text, maybe more (the check decides). One array operation instead of a call per row."""
        c, f = self.c, self.r.features
        if code == "urgent":
            return (c.urgency[rows] == ALERT) | (c.urgency[rows] == IMPORTANT)
        if code == "near_place":
            return f.inside_place[rows].any(axis=1)
        with np.errstate(invalid="ignore"):
            if code == "near_you":
                return f.point_distance_m[rows] <= NEAR_YOU_M
            if code == "on_route":
                return (c.item_type[rows] == WORKS) & (f.route_distance_m[rows] <= ON_ROUTE_M)
            if code == "follows_area":
                return f.followed_area[rows] >= 0
            if code in _FEATURE_FACTS:
                return f.values[rows, FEATURE_INDEX[_FEATURE_FACTS[code]]] != 0
            if code == "your_interests":
                return (f.values[rows, FEATURE_INDEX["category_affinity"]] >= INTEREST_AFFINITY) | (
                    f.values[rows, FEATURE_INDEX["text_similarity"]] >= INTEREST_TEXT
                )
            if code in ("starts_soon", "active_works"):
                return c.item_type[rows] == (EVENTS if code == "starts_soon" else WORKS)
            if code == "popular":
                return c.popularity[rows] >= POPULAR_COUNT
            if code == "recent":
                age = self.r.now_s - c.published_s[rows]
                return (age >= 0) & (age <= RECENT_S)
            if code == "city_wide":
                return c.city_wide[rows]
        return np.ones(len(rows), dtype=bool)

    def value(self, row: int, name: str) -> float:
        return float(self.r.features.values[row, FEATURE_INDEX[name]])

    def text(self, code: str, row: int) -> str | None:
        return getattr(self, code)(row)

    def urgent(self, row: int) -> str | None:
        level = int(self.c.urgency[row])
        if level == ALERT:
            return self.t["urgent_alert"]
        return self.t["urgent_important"] if level == IMPORTANT else None

    def near_place(self, row: int) -> str | None:
        f = self.r.features
        inside = np.flatnonzero(f.inside_place[row])
        if len(inside) == 0:
            return None
        best = inside[np.argmin(f.place_distance_m[row, inside])]
        distance = format_distance(float(f.place_distance_m[row, best]), self.language)
        return self.t["near_place"].format(distance=distance, label=self.ctx.places[best].label)

    def near_you(self, row: int) -> str | None:
        d = float(self.r.features.point_distance_m[row])
        if not d <= NEAR_YOU_M:
            return None
        return self.t["near_you"].format(distance=format_distance(d, self.language))

    def on_route(self, row: int) -> str | None:
        d = float(self.r.features.route_distance_m[row])
        return self.t["on_route"] if self.c.item_type[row] == WORKS and d <= ON_ROUTE_M else None

    def _named(self, key: str, names: Mapping[int, str], ident: int, default: str) -> str:
        return self.t[key].format(name=names.get(ident, self.t[default]))

    def follows_category(self, row: int) -> str | None:
        if not self.value(row, "followed_category"):
            return None
        category = int(self.c.category[row])
        return self._named("follows_category", self.labels.categories, category, "this_category")

    def follows_area(self, row: int) -> str | None:
        area = int(self.r.features.followed_area[row])
        if area < 0:
            return None
        return self._named("follows_area", self.labels.areas, area, "this_area")

    def follows_organization(self, row: int) -> str | None:
        if not self.value(row, "followed_organization"):
            return None
        org = int(self.c.organization[row])
        return self._named(
            "follows_organization", self.labels.organizations, org, "this_organization"
        )

    def your_interests(self, row: int) -> str | None:
        if self.value(row, "category_affinity") >= INTEREST_AFFINITY:
            category = int(self.c.category[row])
            return self._named(
                "interest_category", self.labels.categories, category, "this_category"
            )
        return (
            self.t["interest_text"] if self.value(row, "text_similarity") >= INTEREST_TEXT else None
        )

    def _timing(self, row: int, wanted: int) -> str | None:
        start, end, now = float(self.c.start_s[row]), float(self.c.end_s[row]), self.r.now_s
        if self.c.item_type[row] != wanted or np.isnan(start):
            return None
        prefix = "starts" if wanted == EVENTS else "works"
        if start <= now:
            if end <= now:  # over (NaN end: never over)
                return None
            return self.t["ongoing" if wanted == EVENTS else "works_active"]
        days = _days_until(start, now, self.tz)
        if days > 7:
            return None
        if days <= 1:
            return self.t[f"{prefix}_{'today' if days <= 0 else 'tomorrow'}"]
        return self.t[f"{prefix}_in_days"].format(days=days)

    def starts_soon(self, row: int) -> str | None:
        return self._timing(row, EVENTS)

    def active_works(self, row: int) -> str | None:
        return self._timing(row, WORKS)

    def popular(self, row: int) -> str | None:
        return self.t["popular"] if self.c.popularity[row] >= POPULAR_COUNT else None

    def recent(self, row: int) -> str | None:
        age = self.r.now_s - float(self.c.published_s[row])
        return self.t["recent"] if 0 <= age <= RECENT_S else None

    def city_wide(self, row: int) -> str | None:
        return self.t["city_wide"] if self.c.city_wide[row] else None


def explain(
    ranking: Ranking,
    candidates: Candidates,
    context: ResidentContext,
    rows: Sequence[int] | np.ndarray,
    *,
    labels: Labels | None = None,
    language: str = "fr",
    translate: Callable[[str, str], str] = pgettext,
    tz: tzinfo = PARIS,
    max_reasons: int = 2,
) -> list[list[Reason]]:
    """Reasons for each candidate row in ``rows`` (e.g. ``ranking.order[:20]``).

    Per item: reasons whose fact holds, ordered by their summed contribution to the score;
    those that raised the score are kept (at most ``max_reasons``), or else the single
    strongest true one, so that an item is never shown without a true reason if it has any.
    A pinned alert always starts with "urgent". ``translate(context, msgid)`` gives the texts
    in ``language`` (by default they stay in French, the msgids).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return []
    language = language if language in LANGUAGES else "fr"
    explainer = _Explainer(
        ranking,
        candidates,
        context,
        labels=labels or Labels(),
        language=language,
        translate=translate,
        tz=tz,
    )
    contributions = ranking.ranker.contributions(ranking.features.values[rows])
    by_code = {
        code: contributions[:, columns].sum(axis=1).tolist()
        for code, columns in _REASON_COLUMNS.items()
    }
    # Per reason, the rows where its fact may hold (one array operation each); the reason's
    # own check runs on those rows only, in the same order as before.
    holding = np.stack([explainer.holding(code, rows) for code in REASON_CODES], axis=1).tolist()
    checks = [(code, getattr(explainer, code), by_code[code]) for code in REASON_CODES]
    result: list[list[Reason]] = []
    for k, row in enumerate(rows.tolist()):
        true = []
        for (code, check, sums), may in zip(checks, holding[k], strict=True):
            if not may:
                continue
            text = check(row)
            if text is not None:
                true.append((sums[k], code, text))
        true.sort(key=lambda item: -item[0])
        if ranking.pinned[row]:
            true.sort(key=lambda item: item[1] != "urgent")
        chosen = [item for item in true if item[0] > 0 or item[1] == "urgent"][:max_reasons]
        if not chosen and true:
            chosen = true[:1]
        result.append([Reason(code, text) for _, code, text in chosen])
    return result
