"""Street import for the built-in geocoder: the named lines of a layer, merged by name.

Sections of one street (BD TOPO cuts a street at every crossing) are merged into one
``Street`` per name, reprojected to WGS 84. Idempotent by (name, city); one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiLineString
from django.db import transaction

from apps.core.geo import WGS84
from apps.interop.geocoding.services import street_save

#: At most this many features per file (a large city has about 30,000 road sections).
MAX_FEATURES = 200_000


class StreetImportError(Exception):
    """The file cannot be imported; nothing was changed."""


@transaction.atomic
def streets_import(
    *,
    path: str | Path,
    name_field: str,
    city: str = "",
    postal_code: str = "",
    layer: int | str = 0,
    srid: int | None = None,
) -> int:
    """Create or update one ``Street`` per name found in the layer; return how many."""
    try:
        features = DataSource(str(path))[layer]
    except (GDALException, IndexError) as exc:
        raise StreetImportError(f"Fichier illisible : {path} ({exc}).") from exc
    if name_field not in features.fields:
        available = ", ".join(features.fields)
        raise StreetImportError(f"Champ « {name_field} » absent ; champs : {available}.")
    if len(features) > MAX_FEATURES:
        raise StreetImportError(f"Trop d'objets ({len(features)}, maximum {MAX_FEATURES}).")
    lines: dict[str, list[LineString]] = defaultdict(list)
    for feature in features:
        name = str(feature.get(name_field) or "").strip()
        if not name:
            continue
        geometry = feature.geom
        if geometry.srs is None:
            if srid is None:
                raise StreetImportError("Système de coordonnées inconnu : précisez --srid.")
            geometry.srs = SpatialReference(srid)
        geometry.transform(WGS84)
        geos = GEOSGeometry(geometry.wkb, srid=WGS84)
        if isinstance(geos, LineString):
            lines[name].append(geos)
        elif isinstance(geos, MultiLineString):
            lines[name].extend(part for part in geos if isinstance(part, LineString))
        else:
            raise StreetImportError(f"« {name} » : {geos.geom_type}, une ligne est attendue.")
    for name, parts in lines.items():
        street_save(
            name=name,
            geometry=MultiLineString(*parts, srid=WGS84),
            postal_code=postal_code,
            city=city,
        )
    return len(lines)
