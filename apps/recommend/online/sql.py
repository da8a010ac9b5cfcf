"""SQL expressions of the feed's candidate query, for PostGIS (indexed) and SpatiaLite (correct).

- ``KnnDistanceM``: ``geography(a) <-> geography(b)``, the PostGIS distance operator that a
  GiST index on ``geography(geometry)`` answers in distance order (k nearest neighbours, no
  radius needed); SpatiaLite orders by the computed distance.
- ``CoordX``/``CoordY``: the coordinates of a point as floats (no GEOS object per row);
  ``EpochSeconds``: a timestamp as POSIX seconds (no datetime object per value).
- ``AreaIds``: the ids of the areas an item touches, from its many-to-many table, as one
  column (an array on PostgreSQL, a comma list on SQLite; ``parse_area_ids`` reads both).
- ``Slot``, ``AnchorPoint``, ``IdsIn``: parameters filled per request, so that a statement
  compiled once by the ORM (``compiled``) is reused with new values (``Template``): compiling
  the feed's querysets costs several times the CPU of running the statement (bench/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.db import connections
from django.db.models import BooleanField, Expression, F, FloatField, Func, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import Field

from apps.core.geo import METRES_PER_DEGREE, DistanceM
from apps.core.models import PublishableContent
from apps.core.prepared import run_prepared


class KnnDistanceM(DistanceM):
    """An ordering by distance that PostGIS answers from the geography GiST index."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        (a, b), params = self._compiled(compiler, connection)
        return f"geography({a}) <-> geography({b})", params


class CoordX(Func):
    function = "ST_X"
    output_field = FloatField()


class CoordY(Func):
    function = "ST_Y"
    output_field = FloatField()


class EpochSeconds(Func):
    """A timestamp as POSIX seconds (a float: no datetime object per value in Python)."""

    output_field = FloatField()
    arity = 1

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"((julianday({sql}) - 2440587.5) * 86400.0)", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"date_part('epoch', {sql})", params


class AreaIds(Expression):
    """Ids of the areas an item of ``model`` touches (its ``areas`` many-to-many).

    With ``only`` (a ``Slot`` of area ids), just those among them, and no lookup at all when
    that list is empty: the feed needs the followed areas only.
    """

    output_field = Field()

    def __init__(self, model: type[PublishableContent], only: Slot | None = None) -> None:
        super().__init__()
        through: Any = model.areas.through
        self.through_table = through._meta.db_table
        self.item_column = through._meta.get_field(str(model._meta.model_name)).column
        self.area_column = through._meta.get_field("area").column
        self.item_table = model._meta.db_table
        self.only = only

    def _subquery(self, connection: Any, aggregate: str, only: str = "") -> str:
        q = connection.ops.quote_name
        return (
            f"SELECT {aggregate} FROM {q(self.through_table)} "
            f"WHERE {q(self.through_table)}.{q(self.item_column)} = "
            f"{q(self.item_table)}.{q('id')}{only}"
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        q = connection.ops.quote_name
        aggregate = f"group_concat({q(self.area_column)})"
        if self.only is None:
            return f"({self._subquery(connection, aggregate)})", []
        only = f" AND {q(self.area_column)} IN (SELECT value FROM json_each(%s))"
        return f"({self._subquery(connection, aggregate, only)})", [Slot(self.only.name, json=True)]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        q = connection.ops.quote_name
        if self.only is None:
            return f"ARRAY({self._subquery(connection, q(self.area_column))})", []
        only = f" AND {q(self.area_column)} = ANY(%s::bigint[])"
        subquery = self._subquery(connection, q(self.area_column), only)
        sql = f"CASE WHEN cardinality(%s::bigint[]) > 0 THEN ARRAY({subquery}) END"
        return sql, [self.only, self.only]


class LocalDistanceM(Func):
    """Metres from a geometry to a point (``Slot`` longitude and latitude), cheaply.

    PostgreSQL: 0 for points (``NULL``: the caller measures those itself, in numpy), else the
    planar distance in a local equirectangular frame centred on the point's latitude — within
    0.5 % of the geodesic distance at city scale, like the engine's own ``distance`` module,
    and several times cheaper than ``ST_Distance`` on geographies for a works line.
    SQLite: the ellipsoidal ``ST_Distance`` of every row (the embedded mode is small).
    """

    output_field = FloatField()
    arity = 1

    def __init__(self, field: str, lon: Slot, lat: Slot) -> None:
        super().__init__(F(field))
        self.lon, self.lat = lon, lat

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        geometry, params = compiler.compile(self.get_source_expressions()[0])
        return f"ST_Distance({geometry}, MakePoint(%s, %s, 4326), 1)", [
            *params,
            self.lon,
            self.lat,
        ]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        g, params = compiler.compile(self.get_source_expressions()[0])
        k = "cos(radians(%s::float8))"
        sql = (
            f"CASE WHEN GeometryType({g}) = 'POINT' THEN NULL ELSE "
            f"ST_Distance(ST_Scale({g}, {k}, 1.0), "
            f"ST_SetSRID(ST_MakePoint(%s::float8 * {k}, %s::float8), 4326)) "
            f"* {METRES_PER_DEGREE!r} END"
        )
        return sql, [*params, *params, self.lat, *params, self.lon, self.lat, self.lat]


def parse_area_ids(value: Any) -> tuple[int, ...]:
    """``AreaIds`` as read back: a list (PostgreSQL), a comma list or ``None`` (SQLite)."""
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(int(part) for part in value.split(","))
    return tuple(int(v) for v in value)


@dataclass(frozen=True)
class Slot:
    """A named parameter of a compiled statement; ``json`` ones are encoded as JSON text."""

    name: str
    json: bool = False


class AnchorPoint(Func):
    """A WGS84 point from two float parameters (``Slot`` names or values)."""

    output_field = GeometryField(srid=4326)

    def __init__(self, lon: Any, lat: Any) -> None:
        super().__init__()
        self.lon, self.lat = lon, lat

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        return "MakePoint(%s, %s, 4326)", [self.lon, self.lat]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return "ST_SetSRID(ST_MakePoint(%s, %s), 4326)", [self.lon, self.lat]


class IdsIn(Func):
    """``column`` is one of a list of ids given as one parameter (a ``Slot`` name or a list).

    PostgreSQL: ``= ANY(array)``; SQLite: ``IN (SELECT value FROM json_each(json))``.
    """

    output_field = BooleanField()
    arity = 1

    def __init__(self, column: str, ids: Any) -> None:
        super().__init__(F(column))
        self.ids = ids

    def _column(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return sql, list(params)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        sql, params = self._column(compiler, connection)
        ids = (
            Slot(self.ids.name, json=True)
            if isinstance(self.ids, Slot)
            else json.dumps([int(i) for i in self.ids])
        )
        return f"{sql} IN (SELECT value FROM json_each(%s))", [*params, ids]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = self._column(compiler, connection)
        ids = self.ids if isinstance(self.ids, Slot) else [int(i) for i in self.ids]
        # The cardinality test names no column: PostgreSQL checks it once, before running
        # the source (a "One-Time Filter"), so an empty list costs nothing even in a generic
        # plan, which cannot know the list is empty (else it walks the whole publication
        # index of the type to find no followed item: tens of ms per source, bench/README.md).
        return f"(cardinality(%s::bigint[]) > 0 AND {sql} = ANY(%s))", [ids, *params, ids]


class WantedIds(RawSQL):
    """Ids of type ``t`` in the ``cand`` CTE, plus a list of ids (``Slot``) when given.

    A subquery (not ``id IN cand OR id = ANY(list)``, which PostgreSQL can only answer with a
    sequential scan): the planner joins the few wanted ids to the primary key.
    """

    def __init__(self, t: int, ids: Slot | None) -> None:
        self.t, self.ids = t, ids
        super().__init__("SELECT id FROM cand WHERE t = %s", (t,))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if self.ids is None:
            return "(SELECT id FROM cand WHERE t = %s)", [self.t]
        ids = Slot(self.ids.name, json=True)
        sql = "(SELECT id FROM cand WHERE t = %s UNION ALL SELECT value FROM json_each(%s))"
        return sql, [self.t, ids]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if self.ids is None:
            return "(SELECT id FROM cand WHERE t = %s)", [self.t]
        sql = "(SELECT id FROM cand WHERE t = %s UNION ALL SELECT unnest(%s::bigint[]))"
        return sql, [self.t, self.ids]


#: Stand-ins for the request's times while compiling: no real time is this old.
_TIME_ORIGIN = datetime(1801, 1, 1, tzinfo=UTC)


def time_slot(k: int) -> datetime:
    """The ``k``-th stand-in datetime (see ``Template``)."""
    return _TIME_ORIGIN + timedelta(seconds=k)


@dataclass(frozen=True)
class Template:
    r"""A compiled statement whose parameters are filled per request.

    Parameters that are ``Slot``\ s take the named value; those equal to ``time_slot(k)`` (as
    the database adapter stores datetimes) take the ``k``-th time; the others are constants.
    """

    sql: str
    params: tuple[Any, ...]
    vendor_times: Mapping[Any, int]

    @classmethod
    def build(cls, sql: str, params: Sequence[Any], *, connection: Any, times: int) -> Template:
        adapt = connection.ops.adapt_datetimefield_value
        return cls(sql, tuple(params), {adapt(time_slot(k)): k for k in range(times)})

    def fill(
        self, values: Mapping[str, Any], times: Sequence[datetime], *, connection: Any
    ) -> list[Any]:
        adapt = connection.ops.adapt_datetimefield_value
        adapted = [adapt(t) for t in times]
        out: list[Any] = []
        for param in self.params:
            if isinstance(param, Slot):
                value = values[param.name]
                out.append(json.dumps([int(v) for v in value]) if param.json else value)
            elif isinstance(param, datetime | str) and param in self.vendor_times:
                out.append(adapted[self.vendor_times[param]])
            else:
                out.append(param)
        return out


def run(connection: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Execute ``sql`` and fetch every row; on PostgreSQL as a prepared statement.

    Planning the candidate statement costs PostgreSQL more than running it (for a thousand
    candidates: bench/README.md), and its text is the same for every request of a shape: a
    prepared statement (per connection, ``apps.core.prepared``: id lists as ``bigint[]``, so
    one statement per text) is planned once.
    """
    prepare = getattr(settings, "FEED_PREPARE_STATEMENT", True)
    return run_prepared(connection, sql, params, prepare=prepare)


def compiled(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``queryset`` with its parameters (``%s`` placeholders)."""
    compiler = queryset.query.get_compiler(using=queryset.db, connection=connections[queryset.db])
    sql, params = compiler.as_sql()
    return sql, tuple(params)
