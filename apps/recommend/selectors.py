"""Reads on the interaction log for the feed, the trainer, notifications statistics and admin."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from apps.core.item_types import ItemType
from apps.core.models import Status
from apps.core.prepared import run_prepared
from apps.core.registry import content_models
from apps.recommend.codes import ACTION_WEIGHTS, POSITIVE_ACTIONS, Action, Context
from apps.recommend.models import Interaction
from apps.residents.models import AreaFollow, CategoryFollow, OrganizationFollow, Place
from apps.residents.selectors import FollowedIds

if TYPE_CHECKING:
    from apps.recommend.notice import RankingNotice


def items_existing(pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which ``(type code, id)`` pairs name an existing item (one query per type present)."""
    wanted: dict[str, set[int]] = {}
    for type_code, item_id in pairs:
        wanted.setdefault(type_code, set()).add(item_id)
    models = content_models()
    found: set[tuple[str, int]] = set()
    for type_code, ids in wanted.items():
        for pk in models[type_code].objects.filter(pk__in=ids).values_list("pk", flat=True):
            found.add((type_code, pk))
    return found


def items_once_public(pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which ``(type code, id)`` pairs name an item the public can see or could see.

    Public now, or published once and since expired, ended or archived (an app reports
    what it showed in batches, sometimes after the item left the lists). Drafts, scheduled
    items and items taken back to draft are left out: for a client they do not exist. One
    query per type present.
    """
    wanted: dict[str, set[int]] = {}
    for type_code, item_id in pairs:
        wanted.setdefault(type_code, set()).add(item_id)
    now = timezone.now()
    was_public = Q(
        status__in=[Status.PUBLISHED, Status.ARCHIVED],
        published_at__isnull=False,
        published_at__lte=now,
    ) & ~Q(publish_at__gt=now)
    models = content_models()
    found: set[tuple[str, int]] = set()
    for type_code, ids in wanted.items():
        model = models[type_code]
        visible = model.objects.filter(pk__in=ids).filter(
            was_public | Q(pk__in=model.objects.public(now).values("pk"))
        )
        for pk in visible.values_list("pk", flat=True):
            found.add((type_code, pk))
    return found


def device_category_affinities(
    *, device_id: int, since: datetime | None = None
) -> dict[int, float]:
    """Weighted engagement per category id for one device (``codes.ACTION_WEIGHTS``).

    Opens count 1, saves/likes/shares 2, unsaves -1, dismissals -2; impressions 0. Categories
    with no engagement are absent. One query per content type; uses the ``(device, event_id)``
    index by its leading column.
    """
    weight = Case(
        *(When(action=action, then=Value(w)) for action, w in ACTION_WEIGHTS.items()),
        default=Value(0.0),
        output_field=FloatField(),
    )
    totals: dict[int, float] = {}
    for type_code, model in content_models().items():
        rows = Interaction.objects.filter(
            device_id=device_id,
            item_type=ItemType.from_code(type_code),
            action__in=list(ACTION_WEIGHTS),
        )
        if since is not None:
            rows = rows.filter(at__gte=since)
        category = Subquery(model.objects.filter(pk=OuterRef("item_id")).values("category_id"))
        grouped = (
            rows.annotate(category_id=category)
            .exclude(category_id=None)
            .values("category_id")
            .annotate(score=Sum(weight))
            .order_by()
        )
        for row in grouped:
            totals[row["category_id"]] = totals.get(row["category_id"], 0.0) + row["score"]
    return {category_id: score for category_id, score in totals.items() if score}


def device_dismissed_items(*, device_id: int) -> set[tuple[str, int]]:
    """Items the device dismissed, as ``(type code, id)`` (the feed hides them)."""
    rows = Interaction.objects.filter(device_id=device_id, action=Action.DISMISS).values_list(
        "item_type", "item_id"
    )
    return {(ItemType(item_type).code, item_id) for item_type, item_id in rows}


def item_popularity(
    *,
    since: datetime,
    until: datetime | None = None,
    actions: Iterable[Action] = POSITIVE_ACTIONS,
    item_type: str | None = None,
    limit: int | None = None,
) -> dict[tuple[str, int], int]:
    """Interactions per item in ``[since, until)``, most first (uses the ``at`` index)."""
    rows = Interaction.objects.filter(at__gte=since, action__in=list(actions))
    if until is not None:
        rows = rows.filter(at__lt=until)
    if item_type is not None:
        rows = rows.filter(item_type=ItemType.from_code(item_type))
    grouped = (
        rows.values("item_type", "item_id")
        .annotate(n=Count("id"))
        .order_by("-n", "item_type", "item_id")
    )
    if limit is not None:
        grouped = grouped[:limit]
    return {(ItemType(r["item_type"]).code, r["item_id"]): r["n"] for r in grouped}


def item_action_counts(
    *, item_type: str, item_id: int, context: str | None = None
) -> dict[str, int]:
    """Counts per action code for one item, optionally in one context ("opens from a push").

    Served by the ``(item_type, item_id, action, context)`` index.
    """
    rows = Interaction.objects.filter(item_type=ItemType.from_code(item_type), item_id=item_id)
    if context is not None:
        rows = rows.filter(context=Context.from_code(context))
    grouped = rows.values("action").annotate(n=Count("id")).order_by()
    return {Action(r["action"]).code: r["n"] for r in grouped}


def interactions_for_training(
    *, since: datetime | None = None, until: datetime | None = None
) -> QuerySet:
    """The log as value rows ordered by time, for a time-split training set.

    Each row: ``device_id, item_type, item_id, action, context, position, at`` (integer codes).
    """
    rows = Interaction.objects.all()
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    return rows.order_by("at", "id").values(
        "device_id", "item_type", "item_id", "action", "context", "position", "at"
    )


def _history_rows(device_id: int, limit: int) -> QuerySet:
    latest = Interaction.objects.filter(device_id=device_id).order_by("-at", "-id")
    return Interaction.objects.filter(device_id=device_id).filter(
        Q(action=Action.DISMISS) | Q(pk__in=Subquery(latest.values("pk")[:limit]))
    )


def device_history(*, device_id: int, limit: int = 300) -> list[tuple[str, int, str, datetime]]:
    """The device's ``limit`` latest interactions and all its dismissals, newest first.

    Rows are ``(type code, item id, action code, at)``: what the ranker learns the resident's
    affinities and text profile from, and what it hides (dismissed items). One query on the
    ``(device, event_id)`` index.
    """
    rows = (
        _history_rows(device_id, limit)
        .order_by("-at", "-id")
        .values_list("item_type", "item_id", "action", "at")
    )
    return [
        (ItemType(item_type).code, item_id, Action(action).code, at)
        for item_type, item_id, action, at in rows
    ]


@dataclass(frozen=True)
class PlaceRow:
    """A saved place as the feed reads it (WGS84 degrees)."""

    label: str
    name: str
    lon: float
    lat: float
    radius_m: int


@dataclass(frozen=True)
class ResidentInputs:
    """What a personal feed reads about its device: places (oldest first), follows, history
    (``device_history``'s rows, newest first)."""

    places: list[PlaceRow]
    follows: FollowedIds
    history: list[tuple[str, int, str, datetime]]


#: Stands for the device id in ``resident_inputs``'s statement, compiled once per process.
_DEVICE = -7_000_000_001


@cache
def _inputs_statement(alias: str, history_limit: int) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``resident_inputs`` and its parameters (``_DEVICE`` for the device id).

    Building and compiling the five querysets costs Django more than running them
    (bench/README.md): the statement is compiled once per process and database, like the
    feed's candidate statement.
    """
    from apps.recommend.online.sql import CoordX, CoordY

    text, number, real = CharField(), IntegerField(), FloatField()

    def null(field: Any) -> Cast:
        # Typed: UNION resolves its branches pairwise, and two untyped NULLs make text.
        return Cast(Value(None), field)

    def kind(name: str) -> Value:
        return Value(name, output_field=text)

    blank, no_time = Value("", output_field=text), null(DateTimeField())
    # Columns: kind, id, a, b, c, label, name, lon, lat, at.
    places = Place.objects.filter(device_id=_DEVICE).order_by().values_list(
        kind("place"), "id", "radius_m", null(number), null(number), "label", "name",
        CoordX("location"), CoordY("location"), no_time,
    )  # fmt: skip
    follows = []
    for model, name, label in (
        (CategoryFollow, "category", blank),
        (AreaFollow, "area", "area__name"),
        (OrganizationFollow, "organization", blank),
    ):
        follows.append(
            model.objects.filter(device_id=_DEVICE).values_list(
                kind(name), f"{name}_id", null(number), null(number), null(number),
                label, blank, null(real), null(real), no_time,
            )
        )  # fmt: skip
    history = _history_rows(_DEVICE, history_limit).values_list(
        kind("history"), "id", "item_type", "item_id", "action", blank, blank,
        null(real), null(real), "at",
    )  # fmt: skip
    query = places.union(*follows, history, all=True).query
    sql, params = query.get_compiler(using=alias).as_sql()
    return sql, tuple(params)


def resident_inputs(*, device_id: int, history_limit: int = 300) -> ResidentInputs:
    """Places, follows and history of a device in **one** query (a ``UNION ALL`` of the five
    reads: one round trip instead of three for a personal first page, compiled once)."""
    alias = Place.objects.db
    sql, params = _inputs_statement(alias, history_limit)
    # Prepared (apps.core.prepared): the same text for every device, planned once.
    rows = run_prepared(connections[alias], sql, [device_id if p == _DEVICE else p for p in params])
    found: dict[str, dict[int, str]] = defaultdict(dict)
    place_rows: list[tuple[int, PlaceRow]] = []
    history_rows: list[tuple[datetime, int, tuple[str, int, str, datetime]]] = []
    for row_kind, ident, a, b, c, label, name, lon, lat, at in rows:
        if row_kind == "place":
            place_rows.append((ident, PlaceRow(label, name, lon, lat, a)))
        elif row_kind == "history":
            at = _aware(at)
            history_rows.append((at, ident, (ItemType(a).code, b, Action(c).code, at)))
        else:
            found[row_kind][ident] = label
    place_rows.sort(key=lambda r: r[0])
    history_rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return ResidentInputs(
        places=[place for _, place in place_rows],
        follows=FollowedIds(
            categories=frozenset(found["category"]),
            areas=dict(found["area"]),
            organizations=frozenset(found["organization"]),
        ),
        history=[entry for *_, entry in history_rows],
    )


def _aware(value: Any) -> datetime:
    """A raw cursor's timestamp as the ORM returns it (SQLite gives text, naive UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def ranking_notice() -> RankingNotice:
    """The public notice of how the feed ranks, from the code and the served model
    (``apps.recommend.notice``)."""
    # Imported here: the notice reads the serving ranker of the feed, whose module imports
    # this one.
    from apps.recommend.notice import ranking_notice as build

    return build()
