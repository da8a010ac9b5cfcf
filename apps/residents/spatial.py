"""Which places reach a geometry: the indexed form of the notifications audience's geo test.

A place reaches an item when ``ST_DWithin(geography(location), geography(item), radius_m)``.
PostGIS cannot use an index on ``location`` for that test because the distance differs per row.
So each place also has an indexed *reach box* — ``location`` expanded by ``radius_m`` converted
to degrees (latitude: ``radius_m / 110000``; longitude: the same over ``cos(latitude)``, a bit
larger than the true extent) — computed by an expression GiST index (migration 0001), never
stored. ``Place.objects.reaching(geometry)`` first keeps places whose box overlaps the item's
bounding box (index scan), then applies the exact geodesic test. On SpatiaLite the box test is
skipped (no expression index there) and the exact test alone gives the same answer.
Boxes do not wrap around the antimeridian.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import BooleanField, Func, Value

from apps.core.geo import WGS84

#: The indexed expression. Keep it identical to the index in migration 0001 (a test checks
#: that the planner uses the index).
REACH_BOX_SQL = (
    "ST_Expand({location}, "
    "{radius} / (110000.0 * GREATEST(cos(radians(ST_Y({location}))), 0.05)), "
    "{radius} / 110000.0)"
)
REACH_INDEX_NAME = "residents_place_reach_gist"


def reach_index_sql() -> str:
    """``CREATE INDEX`` of the reach boxes (PostGIS)."""
    expression = REACH_BOX_SQL.format(location='"location"', radius='"radius_m"')
    return (
        f'CREATE INDEX IF NOT EXISTS "{REACH_INDEX_NAME}" ON "residents_place" '
        f"USING gist (({expression}))"
    )


class ReachBoxOverlaps(Func):
    """True when a place's reach box overlaps ``geometry``'s bounding box (PostGIS ``&&``)."""

    output_field = BooleanField()

    def __init__(self, geometry: GEOSGeometry, **extra: Any) -> None:
        if geometry.srid is None:
            geometry = GEOSGeometry(geometry.wkt, srid=WGS84)
        elif geometry.srid != WGS84:
            geometry = geometry.transform(WGS84, clone=True)
        super().__init__(
            "location", "radius_m", Value(geometry, output_field=GeometryField(srid=WGS84)), **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sqls: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            sqls.append(sql)
            params.append(sql_params)
        location, radius, geometry = sqls
        box = REACH_BOX_SQL.format(location=location, radius=radius)
        # The location and radius are columns (no parameters); the box repeats them.
        return f"({box} && {geometry})", list(params[2])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return "1 = 1", []
