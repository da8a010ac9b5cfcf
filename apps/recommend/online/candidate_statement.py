"""The candidate statement of the feed, built from ORM querysets and compiled once per shape.

``WITH cand(t, id) AS (…)`` is the union of capped, index-driven *sources* of public items —
the k nearest to each saved place and to the request point (GiST distance order), the newest
in followed categories, areas and organizations, events with a date in the next week, works
running or about to start, the newest news, the trending (``ItemPopularity``) and the
important or alert items — each an ORM queryset with its own ``ORDER BY … LIMIT``, their caps
adding up to about ``MAX_CANDIDATES``. Then one ``UNION ALL`` branch per content type reads the
facts the ranker needs (``_COLUMNS``) for the candidates and the history items, with the
geodesic distance from the real geometry to each anchor (place or request point).

The SQL text depends only on the ``Shape`` (personal or not, number of places, a point or
not); the values are ``sql.Slot`` parameters and stand-in times, filled per request
(``sql.Template``). ``statement_for`` keeps one compiled ``Template`` per shape and process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.gis.db.models.functions import Centroid
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

from apps.core.item_types import ItemType
from apps.core.models import PublishableContent, Urgency
from apps.core.registry import content_models
from apps.recommend.engine.candidates import ITEM_TYPES, TYPE_CODES
from apps.recommend.models import ItemPopularity
from apps.recommend.online.sql import (
    AnchorPoint,
    AreaIds,
    CoordX,
    CoordY,
    EpochSeconds,
    IdsIn,
    KnnDistanceM,
    LocalDistanceM,
    Slot,
    Template,
    WantedIds,
    compiled,
    time_slot,
)

#: About this many candidates at most (the caps below add up to it).
MAX_CANDIDATES = 1000
#: Nearest items shared by the anchors (places and the request point) and the three types.
NEAR_TOTAL = 240
NEAR_MIN = 12  # per anchor and type, however many places
FOLLOWED_CATEGORY = 30  # newest per type
FOLLOWED_AREA = 25
FOLLOWED_ORGANIZATION = 15
EVENTS_SOON = 50  # events with a date in the next week, soonest first
EVENTS_SOON_WINDOW = timedelta(days=7)
WORKS_ACTIVE = 30  # running or starting within three days
WORKS_SOON_WINDOW = timedelta(days=3)
RECENT_NEWS = 60
TRENDING = 15  # per type
URGENT = 15  # important and alert items, per type
KNN_WINDOW = 3  # nearest items read per anchor, in caps, before ties are ordered


# Times of a request, by their stand-in index (``sql.time_slot``).
NOW, EVENTS_UNTIL, EVENTS_FROM, WORKS_UNTIL = range(4)
_TIMES = 4


def request_times(now: datetime) -> list[datetime]:
    return [
        now,
        now + EVENTS_SOON_WINDOW,
        now - timedelta(days=1),  # dates that started within a day and are still running
        now + WORKS_SOON_WINDOW,
    ]


@dataclass(frozen=True)
class Shape:
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


def _sources(model: type[PublishableContent], shape: Shape) -> list[QuerySet]:
    """The capped id querysets of one content type (see the module doc)."""
    public = model.objects.public(time_slot(NOW))
    newest = ("-publish_at", "-id")
    code = model.type_code
    sources: list[QuerySet] = []
    cap = _near_cap(shape.anchors)
    for k in range(shape.anchors):
        nearest = public.filter(geometry__isnull=False)
        # The GiST index reads the nearest in distance order; ties (events at one venue) then
        # go to the newest item, a fixed order that the item index reproduces. A second key
        # on the index scan itself would cost a sequential scan: the window of ``KNN_WINDOW``
        # times the cap is re-sorted instead.
        window = nearest.order_by(KnnDistanceM("geometry", _anchor(k)).asc())[: KNN_WINDOW * cap]
        ordered = model.objects.filter(pk__in=Subquery(window.values("pk"))).order_by(
            KnnDistanceM("geometry", _anchor(k)).asc(), "-pk"
        )
        sources.append(ordered[:cap])
    if shape.personal:
        by_category = public.filter(IdsIn("category_id", Slot("categories")))
        sources.append(by_category.order_by(*newest)[:FOLLOWED_CATEGORY])
        through: Any = model.areas.through
        touches = through.objects.filter(
            IdsIn("area_id", Slot("areas")), **{f"{model._meta.model_name}_id": OuterRef("pk")}
        )
        sources.append(public.filter(Exists(touches)).order_by(*newest)[:FOLLOWED_AREA])
        by_org = public.filter(IdsIn("organization_id", Slot("organizations")))
        sources.append(by_org.order_by(*newest)[:FOLLOWED_ORGANIZATION])
    if code == "events":
        sources.append(_events_soon(public))
    elif code == "works":
        # Running or about to start, newest announced first (the publication index).
        soon = public.filter(start_at__lte=time_slot(WORKS_UNTIL)).exclude(work_status="cancelled")
        sources.append(soon.order_by(*newest)[:WORKS_ACTIVE])
    elif code == "news":
        sources.append(public.order_by(*newest)[:RECENT_NEWS])
    top = ItemPopularity.objects.filter(item_type=ItemType.from_code(code)).order_by(
        "-positives", "item_id"
    )  # ties in a fixed order (the item index reads the same)
    sources.append(public.filter(pk__in=Subquery(top.values("item_id")[:TRENDING])))
    # The newest important and alert items (the publication index, filtered as it goes).
    urgent = public.filter(urgency__gte=Urgency.IMPORTANT)
    sources.append(urgent.order_by(*newest)[:URGENT])
    return [source.values_list("pk") for source in sources]


def _events_soon(public: QuerySet) -> QuerySet:
    """Events with a date running or starting within a week, soonest dates first.

    Driven by the occurrences' ``start_at`` index: the ``EVENTS_SOON`` first dates starting
    from a day ago (still running) to a week ahead, then their public events.
    """
    occurrences = public.model.occurrences.rel.related_model.objects  # EventOccurrence
    window = occurrences.filter(
        start_at__gte=time_slot(EVENTS_FROM),
        start_at__lt=time_slot(EVENTS_UNTIL),
        end_at__gt=time_slot(NOW),
    ).order_by("start_at", "id")
    return public.filter(pk__in=Subquery(window.values("event_id")[:EVENTS_SOON]))


COLUMNS = (
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


def _facts(
    model: type[PublishableContent], shape: Shape, *, text_language: str, all_areas: bool
) -> QuerySet:
    """One row per candidate or history item of ``model``: the ``COLUMNS`` and distances.

    Areas: every area of each item with ``all_areas`` (the trainer), else only the followed
    ones (what the feed's features read), and none for a non-personal feed.
    """
    code = model.type_code
    areas: Any = Cast(Value(None), CharField())
    if all_areas:
        areas = AreaIds(model)
    elif shape.personal:
        areas = AreaIds(model, only=Slot("areas"))
    table = connections[model.objects.db].ops.quote_name(model._meta.db_table)
    history = Slot(f"history_{code}") if shape.personal else None
    wanted = Q(pk__in=WantedIds(TYPE_CODES[code], history))
    is_cand = RawSQL(
        f"EXISTS(SELECT 1 FROM cand WHERE cand.t = %s AND cand.id = {table}.id)",
        (TYPE_CODES[code],),
        output_field=IntegerField(),
    )
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
        "f_areas": areas,
    }
    for k in range(shape.anchors):
        lon, lat = Slot(f"anchor{k}_lon"), Slot(f"anchor{k}_lat")
        annotations[f"f_d{k}"] = LocalDistanceM("geometry", lon, lat)
    names = [*COLUMNS, *(f"f_d{k}" for k in range(shape.anchors))]
    return model.objects.filter(wanted).order_by().annotate(**annotations).values_list(*names)


def _statement(shape: Shape, *, text_language: str, using: str, sources: bool = True) -> Template:
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
    names = ", ".join([*COLUMNS, *(f"f_d{k}" for k in range(shape.anchors))])
    facts: list[str] = []
    for model in models.values():
        sql, fact_params = compiled(
            _facts(model, shape, text_language=text_language, all_areas=not sources)
        )
        # The outer SELECT fixes the column order (the ORM orders annotations its own way).
        facts.append(f"SELECT {names} FROM ({sql}) f")
        params.extend(fact_params)
    statement = f"WITH cand(t, id) AS ({' UNION '.join(parts)}) " + " UNION ALL ".join(facts)
    return Template.build(statement, params, connection=connections[using], times=_TIMES)


_STATEMENTS: dict[tuple[str, str, Shape, str, bool], Template] = {}


def statement_for(shape: Shape, *, text_language: str, using: str, sources: bool) -> Template:
    """The compiled statement of ``shape`` (compiled on first use in each process)."""
    key = (using, connections[using].vendor, shape, text_language, sources)
    template = _STATEMENTS.get(key)
    if template is None:
        template = _statement(shape, text_language=text_language, using=using, sources=sources)
        _STATEMENTS[key] = template
    return template
