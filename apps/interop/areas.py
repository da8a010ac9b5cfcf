"""Territory import: communes and districts from GeoJSON, Shapefile or GeoPackage (GDAL/OGR).

The city names the layer's name field, code field (INSEE, IRIS…) and the kind of its
features. Geometries are reprojected from the layer's own reference system (a Lambert-93
Shapefile, EPSG:2154, is turned to WGS 84), polygons become multipolygons, invalid rings are
repaired (``MakeValid``). Idempotent by (kind, code): an area whose name and outline did not
change is not written; a new or changed one goes through ``apps.core.services.area_save``, which
re-tags the content its outline touches in set-based statements (one per content type). One
transaction: a file with one unreadable feature changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import transaction
from django.utils.text import slugify

from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind
from apps.core.services import area_save

#: A file with more features than this is refused (a commune has tens of districts; France
#: has about 35,000 communes).
MAX_FEATURES = 50_000
#: Outlines are compared, normalised (ring order and orientation: a Shapefile turns them
#: clockwise), to this precision (degrees, about 1 cm) to tell "unchanged".
TOLERANCE = 1e-7


class AreaImportError(Exception):
    """The file cannot be imported; nothing was changed. The message says why, for staff."""


@dataclass
class AreaReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retagged: int = 0


def _multipolygon(geometry: OGRGeometry, srid: int | None) -> MultiPolygon:
    if geometry.srs is None:
        if srid is None:
            raise AreaImportError(
                "Le fichier ne dit pas son système de coordonnées : précisez --srid."
            )
        geometry.srs = SpatialReference(srid)
    geometry.transform(WGS84)
    geos = GEOSGeometry(geometry.wkb, srid=WGS84)
    if not geos.valid:
        geos = geos.make_valid()
    if isinstance(geos, Polygon):
        return MultiPolygon(geos, srid=WGS84)
    if isinstance(geos, MultiPolygon):
        return geos
    polygons = [g for g in getattr(geos, "__iter__", lambda: iter(()))() if isinstance(g, Polygon)]
    if not polygons:
        raise AreaImportError(f"Géométrie {geos.geom_type} : seuls les polygones sont acceptés.")
    return MultiPolygon(*polygons, srid=WGS84)


def _slug(name: str, code: str) -> str:
    base = slugify(name)[:60] or "zone"
    slug = base
    if Area.objects.filter(slug=slug).exclude(code=code).exists():
        slug = f"{base}-{slugify(code)}"[:80]
    return slug


def _parent(kind: str, geometry: MultiPolygon, parent_code: str | None) -> Area | None:
    if kind != AreaKind.DISTRICT:
        return None
    communes = Area.objects.filter(kind=AreaKind.COMMUNE)
    if parent_code:
        parent = communes.filter(code=parent_code).first()
        if parent is None:
            raise AreaImportError(f"Commune parente inconnue : code {parent_code}.")
        return parent
    return communes.filter(geometry__contains=geometry.point_on_surface).first()


@transaction.atomic
def areas_import(
    *,
    path: str | Path,
    name_field: str,
    code_field: str,
    kind: str,
    layer: int | str = 0,
    srid: int | None = None,
    parent_code: str | None = None,
) -> AreaReport:
    """Create or update the areas of one layer of ``path``; see the module's docstring."""
    if kind not in AreaKind.values:
        raise AreaImportError(f"Type inconnu : {kind} (choix : {', '.join(AreaKind.values)}).")
    try:
        source = DataSource(str(path))
        features = source[layer]
    except (GDALException, IndexError) as exc:
        raise AreaImportError(f"Fichier illisible : {path} ({exc}).") from exc
    fields = list(features.fields)
    for wanted in (name_field, code_field):
        if wanted not in fields:
            available = ", ".join(fields)
            raise AreaImportError(
                f"Champ « {wanted} » absent de la couche ; champs disponibles : {available}."
            )
    if len(features) > MAX_FEATURES:
        raise AreaImportError(f"Trop d'objets ({len(features)}, maximum {MAX_FEATURES}).")
    report = AreaReport()
    seen: set[str] = set()
    for feature in features:
        name = str(feature.get(name_field) or "").strip()[:200]
        code = str(feature.get(code_field) or "").strip()[:20]
        if not name or not code:
            raise AreaImportError(f"Objet {feature.fid} : nom ou code vide.")
        if code in seen:
            raise AreaImportError(f"Code {code} en double dans le fichier.")
        seen.add(code)
        try:
            geometry = _multipolygon(feature.geom, srid)
        except (GDALException, ValueError) as exc:
            raise AreaImportError(f"Objet {code} : géométrie illisible ({exc}).") from exc
        area = Area.objects.filter(kind=kind, code=code).first()
        parent = _parent(kind, geometry, parent_code)
        if area is not None:
            if (
                area.name == name
                and area.parent_id == (parent.pk if parent else None)
                and area.geometry.normalize(clone=True).equals_exact(
                    geometry.normalize(clone=True), TOLERANCE
                )
            ):
                report.unchanged.append(code)
                continue
            report.updated.append(code)
        else:
            area = Area(kind=kind, code=code, slug=_slug(name, code))
            report.created.append(code)
        area.name, area.geometry, area.parent = name, geometry, parent
        report.retagged += area_save(area=area)
    return report
