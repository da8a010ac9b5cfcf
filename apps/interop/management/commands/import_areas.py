"""``manage.py import_areas FILE --name-field NAME --code-field CODE --kind commune|district``.

Reads communes or districts from a GeoJSON, Shapefile or GeoPackage file (``apps.interop.areas``):
idempotent by code, reprojected to WGS 84, the content's areas re-tagged in a batch.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.models import AreaKind
from apps.interop.areas import AreaImportError, areas_import


class Command(BaseCommand):
    help = "Import communes or districts from a GeoJSON, Shapefile or GeoPackage (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON, Shapefile (.shp) or GeoPackage (.gpkg).")
        parser.add_argument("--name-field", required=True, help="Field holding the area's name.")
        parser.add_argument(
            "--code-field", required=True, help="Field holding its code (INSEE, IRIS…)."
        )
        parser.add_argument("--kind", required=True, choices=AreaKind.values)
        parser.add_argument("--layer", default="0", help="Layer index or name (default 0).")
        parser.add_argument(
            "--srid", type=int, help="EPSG code of the file when it does not say (e.g. 2154)."
        )
        parser.add_argument(
            "--parent-code", help="Code of the commune the districts belong to (else found)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        layer: int | str = options["layer"]
        if isinstance(layer, str) and layer.isdigit():
            layer = int(layer)
        try:
            report = areas_import(
                path=options["file"],
                name_field=options["name_field"],
                code_field=options["code_field"],
                kind=options["kind"],
                layer=layer,
                srid=options["srid"],
                parent_code=options["parent_code"],
            )
        except AreaImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged; {report.retagged} items re-tagged"
        )
