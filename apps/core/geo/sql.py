"""Geo SQL (architecture.md §4): the "within N metres" and distance expressions, indexes, points.

Geometries are stored as ``geometry(…, 4326)``. On PostGIS, distances are computed on the
``geography`` cast of each column, which a GiST *expression* index covers (see
``geography_index``), so ``ST_DWithin`` is an index scan. SpatiaLite has no such index: there
the helper computes the ellipsoidal distance of every row — correct, and fast enough for a
demo city. All distances are metres.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import migrations
from django.db.models import BooleanField, Expression, F, FloatField, Func, QuerySet, Value
from django.db.models.expressions import Combinable

from apps.core.earth import WGS84

MetreValue = float | int | Combinable
QS = TypeVar("QS", bound=QuerySet)


def point(lon: float, lat: float) -> Point:
    """Build a WGS84 point; longitude first, as GeoJSON and PostGIS expect."""
    return Point(float(lon), float(lat), srid=WGS84)


def _as_expression(value: Any) -> Any:
    if isinstance(value, GEOSGeometry):
        if value.srid is None:
            value = GEOSGeometry(value.wkt, srid=WGS84)
        elif value.srid != WGS84:
            value = value.transform(WGS84, clone=True)
        return Value(value, output_field=GeometryField(srid=WGS84))
    if isinstance(value, str):
        return F(value)
    if isinstance(value, int | float):
        return Value(float(value), output_field=FloatField())
    return value


class _GeodesicFunc(Func):
    """A function of two geometries whose SQL differs between PostGIS and SpatiaLite."""

    def __init__(self, *expressions: Any, **extra: Any) -> None:
        super().__init__(*(_as_expression(e) for e in expressions), **extra)

    def _compiled(self, compiler: Any, connection: Any) -> tuple[list[str], list[Any]]:
        sqls: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            sqls.append(sql)
            params.extend(sql_params)
        return sqls, params


class DWithinM(_GeodesicFunc):
    """True when geometry ``a`` lies within ``metres`` of geometry ``b`` (geodesic metres)."""

    output_field = BooleanField()
    arity = 3

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        (a, b, metres), params = self._compiled(compiler, connection)
        if not isinstance(self.get_source_expressions()[2], Value):
            return f"ST_DWithin(geography({a}), geography({b}), {metres})", params
        # A fixed distance: spell out what ST_DWithin's index support does — the bounding-box
        # test on the geography index, then the exact test — so that the planner estimates the
        # matching rows from the index statistics. Through ST_DWithin it guesses about one row
        # and then joins every other table of a list query by nested loops over full scans
        # (most of a ``near`` list's time on the bench city: bench/README.md).
        # _ST_Expand and _ST_DWithin are the PostGIS 3 functions ST_DWithin itself is made of.
        a_geography, b_geography = f"geography({a})", f"geography({b})"
        sql = (
            f"({a_geography} && _ST_Expand({b_geography}, {metres}) "
            f"AND _ST_DWithin({a_geography}, {b_geography}, {metres}, true))"
        )
        # Each placeholder appears twice: repeat the parameters in order (a, b, metres).
        counts = [sql_part.count("%s") for sql_part in (a, b, metres)]
        a_params, rest = params[: counts[0]], params[counts[0] :]
        b_params, m_params = rest[: counts[1]], rest[counts[1] :]
        return sql, [*a_params, *b_params, *m_params, *a_params, *b_params, *m_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        (a, b, metres), params = self._compiled(compiler, connection)
        return f"(ST_Distance({a}, {b}, 1) <= {metres})", params


class DistanceM(_GeodesicFunc):
    """Geodesic distance in metres between two geometries (0 when they intersect)."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        (a, b), params = self._compiled(compiler, connection)
        return f"ST_Distance(geography({a}), geography({b}))", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        (a, b), params = self._compiled(compiler, connection)
        return f"ST_Distance({a}, {b}, 1)", params


class IsValidGeometry(Func):
    """``ST_IsValid(column)`` for database check constraints (NULL passes, as in SQL).

    Django also evaluates check constraints in Python (``Model.validate_constraints``) by
    substituting the instance's values; GeoDjango's ``isvalid`` lookup raises on a ``None``
    value there, so this function judges a literal geometry with GEOS instead.
    """

    function = "ST_IsValid"
    output_field = BooleanField()
    arity = 1

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        (expression,) = self.get_source_expressions()
        if isinstance(expression, Value):
            geometry = expression.value
            valid = geometry is None or (isinstance(geometry, GEOSGeometry) and geometry.valid)
            return ("1=1" if valid else "1=0"), []
        return super().as_sql(compiler, connection, **extra)


class SimplifiedGeometry(Func):
    """``ST_SimplifyPreserveTopology(geometry, tolerance)`` (degrees for our SRID): a lighter
    outline that stays valid, for drawing (the staff maps). Same name on PostGIS and SpatiaLite."""

    function = "ST_SimplifyPreserveTopology"
    arity = 2

    def __init__(self, expression: Any, tolerance_deg: float, **extra: Any) -> None:
        super().__init__(
            _as_expression(expression),
            Value(float(tolerance_deg), output_field=FloatField()),
            output_field=GeometryField(srid=WGS84),
            **extra,
        )


def within_m(
    queryset: QS,
    geometry: GEOSGeometry | Expression | str,
    metres: MetreValue,
    *,
    field: str = "geometry",
) -> QS:
    """Keep rows whose ``field`` lies within ``metres`` of ``geometry``.

    ``metres`` may be a number or an expression (e.g. ``F("radius_m")`` for a per-row radius).
    On PostGIS this uses the ``geography(field)`` GiST index; rows without geometry never match.
    """
    return queryset.filter(DWithinM(field, geometry, metres))


def annotate_distance_m(
    queryset: QS,
    geometry: GEOSGeometry | Expression,
    *,
    field: str = "geometry",
    name: str = "distance_m",
) -> QS:
    """Annotate ``name`` with the distance in metres from ``field`` to ``geometry``."""
    return queryset.annotate(**{name: DistanceM(field, geometry)})


def geography_index(table: str, column: str = "geometry") -> migrations.RunPython:
    """A migration operation creating the GiST index on ``geography(column)`` on PostGIS only."""
    name = f"{table}_{column}_geog_gist"[:63]

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gist (geography("{column}"))'
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(forwards, backwards, elidable=False)
