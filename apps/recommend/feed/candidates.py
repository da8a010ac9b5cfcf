"""Candidate generation for the feed: one SQL statement, capped sources, the engine's arrays.

The statement (``feed_catalog``) has two parts:

1. ``WITH cand(t, id) AS (…)``: the union of capped, index-driven *sources* of public items —
   the k nearest to each saved place and to the request point (GiST distance order), the
   newest in followed categories, areas and organizations, events with a date in the next
   week, works running or about to start, the newest news, the trending (``ItemPopularity``)
   and the important or alert items. Each source is an ORM queryset compiled to SQL with its
   own ``ORDER BY … LIMIT``; their caps add up to about ``MAX_CANDIDATES``.
2. One ``UNION ALL`` branch per content type reading the facts the ranker needs for the
   candidates *and* for the items of the resident's history (``history`` ids, which may be
   expired): representative point, dates, urgency, popularity, severity, text, areas, and the
   geodesic distance from the real geometry (a works line, a polygon) to each anchor.

So the number of queries is one whatever the page size, the number of places or follows.
Texts are turned into hashed term counts through ``texts.TEXT_CACHE`` (once per item version).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.gis.db.models.functions import Centroid
from django.contrib.gis.geos import Point
from django.db import connections
from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, NullIf

from apps.core.geo import DistanceM
from apps.core.models import PublishableContent, Urgency
from apps.core.registry import content_models
from apps.recommend.candidates import ITEM_TYPES, TYPE_CODES, Candidates
from apps.recommend.codes import ItemType
from apps.recommend.feed.sql import (
    AnchorPoint,
    AreaIds,
    CoordX,
    CoordY,
    EpochSeconds,
    IdsIn,
    KnnDistanceM,
    Slot,
    Template,
    compiled,
    run,
    time_slot,
)
from apps.recommend.feed.sql import parse_area_ids as _area_ids
from apps.recommend.feed.texts import TEXT_CACHE
from apps.recommend.models import ItemPopularity

#: About this many candidates at most (the caps below add up to it).
MAX_CANDIDATES = 1000
#: Nearest items shared by the anchors (places and the request point) and the three types.
NEAR_TOTAL = 420
NEAR_MIN = 15  # per anchor and type, however many places
FOLLOWED_CATEGORY = 45  # newest per type
FOLLOWED_AREA = 25
FOLLOWED_ORGANIZATION = 15
EVENTS_SOON = 70  # events with a date in the next week, soonest first
EVENTS_SOON_WINDOW = timedelta(days=7)
WORKS_ACTIVE = 50  # running or starting within three days
WORKS_SOON_WINDOW = timedelta(days=3)
RECENT_NEWS = 90
TRENDING = 20  # per type
URGENT = 20  # important and alert items, per type

#: Traffic impact of works for the ranker (0-1), from ``apps.works.models.Severity``.
SEVERITY = {"minor": 0.3, "moderate": 0.6, "major": 1.0}


@dataclass(frozen=True)
class CandidateRequest:
    """What the sources depend on. ``places`` and ``point`` are WGS84 points."""

    now: datetime
    places: Sequence[Point] = ()
    point: Point | None = None
    followed_categories: Collection[int] = frozenset()
    followed_areas: Collection[int] = frozenset()
    followed_organizations: Collection[int] = frozenset()
    #: Items of the resident's history whose facts are needed too: type code → ids.
    history: Mapping[str, Collection[int]] = field(default_factory=dict)
    #: Whether follows and history apply (a consenting device); else only the anchors do.
    personal: bool = False

    @property
    def anchors(self) -> list[Point]:
        return [*self.places, *([self.point] if self.point is not None else [])]


@dataclass(frozen=True, eq=False)
class FeedCatalog:
    """The items read: candidates and history items, one row each (``catalog``).

    ``is_candidate`` marks the public items selected by a source; ``catalog.place_distance_m``
    holds one column per place and ``point_distance_m`` the distance to the request point.
    """

    catalog: Candidates
    is_candidate: np.ndarray

    def candidates(self) -> Candidates:
        return self.catalog.take(np.flatnonzero(self.is_candidate))

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Catalog rows of item keys (``candidates.item_keys``); -1 where unknown."""
        catalog_keys = self.catalog.keys
        order = np.argsort(catalog_keys, kind="stable")
        if len(order) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(catalog_keys[order], keys), len(order) - 1)
        return np.where(catalog_keys[order][pos] == keys, order[pos], -1)


# --- the statement ---------------------------------------------------------------------------

# Times of a request, by their stand-in index (``sql.time_slot``).
NOW, EVENTS_UNTIL, EVENTS_FROM, WORKS_UNTIL = range(4)
_TIMES = 4


def _times(now: datetime) -> list[datetime]:
    return [
        now,
        now + EVENTS_SOON_WINDOW,
        now - 2 * EVENTS_SOON_WINDOW,  # keeps the range scan on the occurrence index short
        now + WORKS_SOON_WINDOW,
    ]


@dataclass(frozen=True)
class _Shape:
    """What the SQL text depends on (the values travel as parameters)."""

    personal: bool
    places: int
    point: bool

    @property
    def anchors(self) -> int:
        return self.places + int(self.point)


def _anchor(k: int) -> AnchorPoint:
    return AnchorPoint(Slot(f"anchor{k}_lon"), Slot(f"anchor{k}_lat"))


def _near_cap(n_anchors: int) -> int:
    return max(NEAR_MIN, NEAR_TOTAL // (len(ITEM_TYPES) * max(n_anchors, 1)))


def _sources(model: type[PublishableContent], shape: _Shape) -> list[QuerySet]:
    """The capped id querysets of one content type (see the module doc)."""
    public = model.objects.public(time_slot(NOW))
    newest = ("-publish_at", "-id")
    code = model.type_code
    sources: list[QuerySet] = []
    cap = _near_cap(shape.anchors)
    for k in range(shape.anchors):
        nearest = public.filter(geometry__isnull=False)
        sources.append(nearest.order_by(KnnDistanceM("geometry", _anchor(k)).asc())[:cap])
    if shape.personal:
        by_category = public.filter(IdsIn("category_id", Slot("categories")))
        sources.append(by_category.order_by(*newest)[:FOLLOWED_CATEGORY])
        through: Any = model.areas.through  # type: ignore[attr-defined]
        touches = through.objects.filter(
            IdsIn("area_id", Slot("areas")), **{f"{model._meta.model_name}_id": OuterRef("pk")}
        )
        sources.append(public.filter(Exists(touches)).order_by(*newest)[:FOLLOWED_AREA])
        by_org = public.filter(IdsIn("organization_id", Slot("organizations")))
        sources.append(by_org.order_by(*newest)[:FOLLOWED_ORGANIZATION])
    if code == "events":
        sources.append(_events_soon(public)[:EVENTS_SOON])
    elif code == "works":
        soon = public.filter(start_at__lte=time_slot(WORKS_UNTIL)).exclude(work_status="cancelled")
        sources.append(soon.order_by("-urgency", "-start_at", "-id")[:WORKS_ACTIVE])
    elif code == "news":
        sources.append(public.order_by(*newest)[:RECENT_NEWS])
    top = ItemPopularity.objects.filter(item_type=ItemType.from_code(code)).order_by("-positives")
    sources.append(public.filter(pk__in=Subquery(top.values("item_id")[:TRENDING])))
    urgent = public.filter(urgency__gte=Urgency.IMPORTANT)
    sources.append(urgent.order_by("-urgency", *newest)[:URGENT])
    return [source.values_list("pk") for source in sources]


def _events_soon(public: QuerySet) -> QuerySet:
    """Events with an occurrence running or starting within a week, by next start."""
    occurrences = public.model.occurrences.rel.related_model.objects  # EventOccurrence
    window = occurrences.filter(
        event=OuterRef("pk"),
        end_at__gt=time_slot(NOW),
        start_at__lt=time_slot(EVENTS_UNTIL),
        start_at__gte=time_slot(EVENTS_FROM),
    )
    upcoming = occurrences.filter(event=OuterRef("pk"), end_at__gt=time_slot(NOW))
    return (
        public.filter(Exists(window))
        .alias(next_start=Subquery(upcoming.order_by("start_at").values("start_at")[:1]))
        .order_by("next_start", "id")
    )


_COLUMNS = (
    "f_type",
    "f_id",
    "f_candidate",
    "f_category",
    "f_organization",
    "f_lon",
    "f_lat",
    "f_published",
    "f_start",
    "f_end",
    "f_expires",
    "f_urgency",
    "f_popularity",
    "f_severity",
    "f_updated",
    "f_text",
    "f_areas",
)


def _text(language: str) -> Any:
    """Title and summary in the ranker's text language, falling back to the other one."""
    other = "en" if language == "fr" else "fr"

    def pick(name: str) -> Any:
        return Coalesce(
            NullIf(f"{name}_{language}", Value("")), f"{name}_{other}", Value(""),
            output_field=CharField(),
        )  # fmt: skip

    return Concat(pick("title"), Value(" "), pick("summary"), output_field=CharField())


def _facts(model: type[PublishableContent], shape: _Shape, *, text_language: str) -> QuerySet:
    """One row per candidate or history item of ``model``: the ``_COLUMNS`` and distances."""
    code = model.type_code
    table = connections[model.objects.db].ops.quote_name(model._meta.db_table)
    in_cand = RawSQL("SELECT id FROM cand WHERE t = %s", (TYPE_CODES[code],))
    is_cand = RawSQL(
        f"EXISTS(SELECT 1 FROM cand WHERE cand.t = %s AND cand.id = {table}.id)",
        (TYPE_CODES[code],),
        output_field=IntegerField(),
    )
    wanted = Q(pk__in=in_cand)
    if shape.personal:
        wanted |= Q(IdsIn("id", Slot(f"history_{code}")))
    popularity = ItemPopularity.objects.filter(
        item_type=ItemType.from_code(code), item_id=OuterRef("pk")
    ).values("positives")[:1]
    none_time = Cast(Value(None), DateTimeField())  # typed NULL: the UNION needs one type
    start: Any = none_time
    end: Any = none_time
    severity: Any = Cast(Value(None), CharField())
    if code == "works":
        start, end, severity = F("start_at"), F("end_at"), F("severity")
    elif code == "events":
        occurrences = model.occurrences.rel.related_model.objects  # type: ignore[attr-defined]
        upcoming = occurrences.filter(event=OuterRef("pk"), end_at__gt=time_slot(NOW))
        start = Coalesce(
            Subquery(upcoming.order_by("start_at").values("start_at")[:1]), F("start_at")
        )
        end = F("last_end_at")
    annotations: dict[str, Any] = {
        "f_type": Value(TYPE_CODES[code], output_field=IntegerField()),
        "f_id": F("pk"),
        "f_candidate": is_cand,
        "f_category": F("category_id"),
        "f_organization": F("organization_id"),
        "f_lon": CoordX(Centroid("geometry")),
        "f_lat": CoordY(Centroid("geometry")),
        "f_published": EpochSeconds(Coalesce("publish_at", "published_at", "created_at")),
        "f_start": EpochSeconds(start),
        "f_end": EpochSeconds(end),
        "f_expires": EpochSeconds("expires_at"),
        "f_urgency": F("urgency"),
        "f_popularity": Coalesce(Subquery(popularity), Value(0)),
        "f_severity": severity,
        "f_updated": EpochSeconds("updated_at"),
        "f_text": _text(text_language),
        "f_areas": AreaIds(model),
    }
    for k in range(shape.anchors):
        annotations[f"f_d{k}"] = DistanceM("geometry", _anchor(k))
    names = [*_COLUMNS, *(f"f_d{k}" for k in range(shape.anchors))]
    return model.objects.filter(wanted).order_by().annotate(**annotations).values_list(*names)


def _statement(shape: _Shape, *, text_language: str, using: str, sources: bool = True) -> Template:
    """The candidate statement of ``shape``, compiled once (see ``sql.Template``).

    Without ``sources`` the ``cand`` set is empty: the statement reads the facts of the
    ``history`` ids only (the trainer's catalog).
    """
    models = content_models()
    parts: list[str] = []
    params: list[Any] = []
    for code, model in models.items():
        for source in _sources(model, shape) if sources else ():
            sql, source_params = compiled(source)
            parts.append(f"SELECT {TYPE_CODES[code]} AS t, s.pk FROM ({sql}) s")
            params.extend(source_params)
    if not parts:
        parts.append("SELECT 0 AS t, 0 AS id WHERE 1 = 0")
    names = ", ".join([*_COLUMNS, *(f"f_d{k}" for k in range(shape.anchors))])
    facts: list[str] = []
    for model in models.values():
        sql, fact_params = compiled(_facts(model, shape, text_language=text_language))
        # The outer SELECT fixes the column order (the ORM orders annotations its own way).
        facts.append(f"SELECT {names} FROM ({sql}) f")
        params.extend(fact_params)
    statement = f"WITH cand(t, id) AS ({' UNION '.join(parts)}) " + " UNION ALL ".join(facts)
    return Template.build(statement, params, connection=connections[using], times=_TIMES)


_STATEMENTS: dict[tuple[str, str, _Shape, str, bool], Template] = {}


def _execute(request: CandidateRequest, *, text_language: str, sources: bool) -> FeedCatalog:
    using = next(iter(content_models().values())).objects.db
    connection = connections[using]
    shape = _Shape(
        personal=request.personal, places=len(request.places), point=request.point is not None
    )
    key = (using, connection.vendor, shape, text_language, sources)
    template = _STATEMENTS.get(key)
    if template is None:
        template = _statement(shape, text_language=text_language, using=using, sources=sources)
        _STATEMENTS[key] = template
    values: dict[str, Any] = {
        "categories": sorted(request.followed_categories),
        "areas": sorted(request.followed_areas),
        "organizations": sorted(request.followed_organizations),
    }
    for code in content_models():
        values[f"history_{code}"] = sorted(request.history.get(code, ()))
    for k, anchor in enumerate(request.anchors):
        values[f"anchor{k}_lon"], values[f"anchor{k}_lat"] = float(anchor.x), float(anchor.y)
    params = template.fill(values, _times(request.now), connection=connection)
    return _catalog(run(connection, template.sql, params), request)


def feed_catalog(request: CandidateRequest, *, text_language: str = "fr") -> FeedCatalog:
    """Run the candidate statement (one query) and build the engine's arrays."""
    return _execute(request, text_language=text_language, sources=True)


def items_catalog(
    refs: Mapping[str, Collection[int]], *, now: datetime, text_language: str = "fr"
) -> Candidates:
    """The facts of any items (public or not) as the feed reads them: one query.

    Events' dates are their next occurrence after ``now`` (else their first) and the end of
    the series, as for the feed's candidates.
    """
    request = CandidateRequest(now=now, history=refs, personal=True)
    return _execute(request, text_language=text_language, sources=False).catalog


def _catalog(rows: list[tuple], request: CandidateRequest) -> FeedCatalog:
    """The engine's arrays from the statement's rows (``_COLUMNS`` then one distance each)."""
    n = len(rows)
    columns = (
        list(zip(*rows, strict=True)) if rows else [()] * (len(_COLUMNS) + len(request.anchors))
    )
    col = dict(zip(_COLUMNS, columns, strict=False))

    def floats(values: Sequence[Any]) -> np.ndarray:
        return np.array(values, dtype=np.float64)  # None becomes NaN

    item_type = np.array(col["f_type"], dtype=np.int8)
    item_id = np.array(col["f_id"], dtype=np.int64)
    area_lists = [_area_ids(v) for v in col["f_areas"]]
    text = TEXT_CACHE.rows(
        [(int(t), int(i), u) for t, i, u in zip(item_type, item_id, col["f_updated"], strict=True)],
        col["f_text"],
    )
    distances = (
        np.array(columns[len(_COLUMNS) :], dtype=np.float64).T.reshape(n, len(request.anchors))
        if request.anchors
        else np.zeros((n, 0))
    )
    distances = np.where(np.isnan(distances), np.nan, distances)
    n_places = len(request.places)
    catalog = Candidates(
        item_type=item_type,
        item_id=item_id,
        category=np.array(col["f_category"], dtype=np.int64),
        organization=np.array(col["f_organization"], dtype=np.int64),
        lon=floats(col["f_lon"]),
        lat=floats(col["f_lat"]),
        published_s=floats(col["f_published"]),
        start_s=floats(col["f_start"]),
        end_s=floats(col["f_end"]),
        expires_s=floats(col["f_expires"]),
        urgency=np.array(col["f_urgency"], dtype=np.int8),
        popularity=floats(col["f_popularity"]),
        severity=np.array([SEVERITY.get(v, 0.0) for v in col["f_severity"]], dtype=np.float64),
        text=text,
        area_item=np.repeat(np.arange(n, dtype=np.int64), [len(a) for a in area_lists]),
        area_id=np.array([a for areas in area_lists for a in areas], dtype=np.int64),
        place_distance_m=distances[:, :n_places] if request.anchors else None,
        point_distance_m=distances[:, n_places] if request.point is not None else None,
    )
    return FeedCatalog(catalog, np.array(col["f_candidate"], dtype=bool))
