"""``manage.py import_streets FILE --name-field NAME [--city C --postal-code P]``.

Reads the named streets of a line layer (BD TOPO ``troncon_de_route`` with ``NOM_1_G``, an
OpenStreetMap extract with ``name``, the city's GIS) for the built-in geocoder; see
``apps.interop.geocoding.streets``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.interop.geocoding.streets import StreetImportError, streets_import


class Command(BaseCommand):
    help = "Import street names and lines (GeoJSON, Shapefile, GeoPackage) for the geocoder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON, Shapefile (.shp) or GeoPackage (.gpkg).")
        parser.add_argument("--name-field", required=True, help="Field holding the street name.")
        parser.add_argument("--city", default="", help="Commune name shown in the labels.")
        parser.add_argument("--postal-code", default="", help="Postal code shown in the labels.")
        parser.add_argument("--layer", default="0", help="Layer index or name (default 0).")
        parser.add_argument("--srid", type=int, help="EPSG code when the file does not say.")

    def handle(self, *args: Any, **options: Any) -> None:
        layer: int | str = options["layer"]
        if isinstance(layer, str) and layer.isdigit():
            layer = int(layer)
        try:
            count = streets_import(
                path=options["file"],
                name_field=options["name_field"],
                city=options["city"],
                postal_code=options["postal_code"],
                layer=layer,
                srid=options["srid"],
            )
        except StreetImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{count} streets")
