"""Which of some ``(type, id)`` refs are public now, their versions and distances: one statement.

The feed's page renderer (``fragments.items_render``) needs, for the ids of a page, no model
instance at all when their fragments are current: only which are still public, their
``updated_at`` (the fragment version) and their distance to the request's point. This module
compiles, once per process and shape (with or without a point), one ``UNION ALL`` statement
over every registered content type from the types' own ``public()`` querysets, with the ids
as ``bigint[]`` parameters and the request's time and point filled in per call; on PostgreSQL
it runs as a prepared statement (``apps.core.prepared``). Elsewhere (SpatiaLite) it runs the
querysets, one per type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.core.geo import annotate_distance_m
from apps.core.prepared import bigint_array, run_prepared
from apps.core.registry import content_models


@dataclass(frozen=True)
class ItemVersion:
    """What SQL says about a public item now: its version and distance to the request's point."""

    type_code: str
    id: int
    updated_at: datetime | None
    distance_m: float | None = None


#: Stand-ins compiled into the statement, replaced per call (no real id or coordinate).
_IDS = [-7_000_000_004]
_LON, _LAT = -7_000_000_005.0, -7_000_000_006.0


def _public(type_code: str, at: datetime | None = None) -> QuerySet:
    return content_models()[type_code].objects.public(at).order_by()


class _RefsStatement:
    """The compiled ``UNION ALL`` of every type (PostgreSQL), with or without a point."""

    def __init__(self, *, with_point: bool, alias: str = "default") -> None:
        self.types = list(content_models())
        connection = connections[alias]
        ops = connection.ops
        parts: list[str] = []
        params: list[Any] = []
        self.now_at: list[int] = []
        self.ids_at: list[int] = []
        self.lon_at: list[int] = []
        self.lat_at: list[int] = []
        for t, type_code in enumerate(self.types):
            before = timezone.now()
            queryset = _public(type_code)
            after = timezone.now()
            model = queryset.model
            table = ops.quote_name(model._meta.db_table)
            column = f"{table}.{ops.quote_name(model._meta.pk.column)}"
            queryset = queryset.filter(
                RawSQL(f"{column} = ANY(%s::bigint[])", (_IDS,), output_field=BooleanField())
            )
            if with_point:
                geometry = f"{table}.{ops.quote_name('geometry')}"
                queryset = queryset.annotate(
                    d=RawSQL(
                        f"ST_Distance(geography({geometry}), geography(ST_SetSRID("
                        "ST_MakePoint(%s::float8, %s::float8), 4326)))",
                        (_LON, _LAT),
                        output_field=FloatField(),
                    )
                )
                queryset = queryset.values_list("pk", "updated_at", "d")
            else:
                queryset = queryset.values_list("pk", "updated_at")
            compiler = queryset.query.get_compiler(using=alias)
            sql, part_params = compiler.as_sql()
            offset = len(params)
            for k, p in enumerate(part_params):
                if p is _IDS:
                    self.ids_at.append(offset + k)
                elif isinstance(p, datetime) and before <= p <= after:
                    self.now_at.append(offset + k)
                elif p == _LON and isinstance(p, float):
                    self.lon_at.append(offset + k)
                elif p == _LAT and isinstance(p, float):
                    self.lat_at.append(offset + k)
            params.extend(part_params)
            # Name the columns: Django selects annotations before fields.
            distance = 's."d"' if with_point else "NULL::float8"
            parts.append(f'SELECT {t}::int AS t, s."pk", s."updated_at", {distance} FROM ({sql}) s')
        if len(self.ids_at) != len(self.types):
            raise RuntimeError("cannot compile the item refs statement")
        self.sql = " UNION ALL ".join(parts)
        self.params = params

    def run(self, ids: dict[str, list[int]], point: tuple[float, float] | None) -> list[Any]:
        connection = connections["default"]
        params = list(self.params)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        for k in self.now_at:
            params[k] = now
        for k, type_code in zip(self.ids_at, self.types, strict=True):
            params[k] = bigint_array(ids.get(type_code, ()))
        if point is not None:
            for k in self.lon_at:
                params[k] = point[0]
            for k in self.lat_at:
                params[k] = point[1]
        return run_prepared(connection, self.sql, params)


_STATEMENTS: dict[bool, _RefsStatement] = {}


def refs_fetch(refs: Sequence[tuple[str, int]], *, near: Any = None) -> dict[tuple[str, int], Any]:
    """``{(type, id): ItemVersion}`` for the refs that are public now (one statement)."""

    wanted: dict[str, list[int]] = {}
    for type_code, pk in refs:
        wanted.setdefault(type_code, []).append(int(pk))
    if not wanted:
        return {}
    point = None if near is None else (float(near.x), float(near.y))
    out: dict[tuple[str, int], Any] = {}
    if connections["default"].vendor != "postgresql":
        for type_code, ids in wanted.items():
            queryset = _public(type_code).filter(pk__in=ids)
            if near is not None:
                rows = annotate_distance_m(queryset, near).values_list(
                    "pk", "updated_at", "distance_m"
                )
            else:
                rows = queryset.values_list("pk", "updated_at")
            for row in rows:
                distance = row[2] if near is not None else None
                out[(type_code, row[0])] = ItemVersion(type_code, row[0], row[1], distance)
        return out
    with_point = point is not None
    statement = _STATEMENTS.get(with_point)
    if statement is None:
        statement = _STATEMENTS[with_point] = _RefsStatement(with_point=with_point)
    for t, pk, updated_at, distance in statement.run(wanted, point):
        type_code = statement.types[t]
        out[(type_code, pk)] = ItemVersion(type_code, pk, updated_at, distance)
    return out
