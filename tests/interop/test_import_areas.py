"""``manage.py import_areas``: communes from a GeoJSON with INSEE codes, districts from a
Lambert-93 Shapefile (EPSG:2154, written by GDAL's ogr2ogr in a tmp dir) and a GeoPackage,
reprojected; idempotent by code; content re-tagged; districts in the API, admin and audience."""

from __future__ import annotations

import json
import shutil
import subprocess
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from apps.core.models import Area, AreaKind, Urgency
from apps.notifications.audience import reach_by_area
from apps.residents.models import Place
from tests.factories import CENTRE_LAT, CENTRE_LON, UserFactory, WorksFactory
from tests.residents.factories import make_resident
from tests.staff import staff_login

pytestmark = pytest.mark.skipif(not shutil.which("ogr2ogr"), reason="gdal-bin (ogr2ogr) needed")


def _square(lon: float, lat: float, half: float) -> list[list[list[float]]]:
    return [
        [
            [lon - half, lat - half],
            [lon + half, lat - half],
            [lon + half, lat + half],
            [lon - half, lat + half],
            [lon - half, lat - half],
        ]
    ]


def _collection(features: list[tuple[dict, list]]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Polygon", "coordinates": ring},
            }
            for props, ring in features
        ],
    }


@pytest.fixture
def communes_file(tmp_path):
    """Two communes (IGN Admin Express shape: ``NOM``, ``INSEE_COM``), WGS 84."""
    path = tmp_path / "communes.geojson"
    path.write_text(
        json.dumps(
            _collection(
                [
                    (
                        {"NOM": "Lyonnay", "INSEE_COM": "69999"},
                        _square(CENTRE_LON, CENTRE_LAT, 0.05),
                    ),
                    (
                        {"NOM": "Villeneuve", "INSEE_COM": "69998"},
                        _square(CENTRE_LON + 0.2, CENTRE_LAT, 0.05),
                    ),
                ]
            )
        )
    )
    return path


def _districts_geojson(tmp_path, name: str = "Centre-Ville"):
    path = tmp_path / "districts-wgs84.geojson"
    path.write_text(
        json.dumps(
            _collection(
                [
                    (
                        {"nom_quart": name, "code_iris": "699990101"},
                        _square(CENTRE_LON, CENTRE_LAT, 0.004),
                    ),
                    (
                        {"nom_quart": "La Gare", "code_iris": "699990102"},
                        _square(CENTRE_LON + 0.02, CENTRE_LAT, 0.004),
                    ),
                ]
            )
        )
    )
    return path


def _ogr(*args: str) -> None:
    subprocess.run(["ogr2ogr", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def districts_shapefile(tmp_path):
    """The districts as a Shapefile in Lambert-93 (EPSG:2154), written by GDAL."""
    shp = tmp_path / "quartiers.shp"
    _ogr("-f", "ESRI Shapefile", "-t_srs", "EPSG:2154", str(shp), str(_districts_geojson(tmp_path)))
    return shp


def _run(*args: str) -> str:
    out = StringIO()
    call_command("import_areas", *args, stdout=out)
    return out.getvalue()


def test_import_areas_geojson_communes_with_insee_codes(db, communes_file):
    assert "2 created" in _run(
        str(communes_file), "--name-field", "NOM", "--code-field", "INSEE_COM", "--kind", "commune"
    )
    lyonnay = Area.objects.get(code="69999")
    assert (lyonnay.name, lyonnay.kind, lyonnay.slug) == ("Lyonnay", AreaKind.COMMUNE, "lyonnay")
    assert lyonnay.geometry.geom_type == "MultiPolygon" and lyonnay.geometry.srid == 4326
    assert lyonnay.geometry.contains(Point(CENTRE_LON, CENTRE_LAT, srid=4326))


def test_import_areas_rerun_changes_nothing(db, communes_file):
    args = (
        str(communes_file),
        "--name-field",
        "NOM",
        "--code-field",
        "INSEE_COM",
        "--kind",
        "commune",
    )
    _run(*args)
    stamps = dict(Area.objects.values_list("code", "updated_at"))
    assert "0 created, 0 updated, 2 unchanged" in _run(*args)
    assert dict(Area.objects.values_list("code", "updated_at")) == stamps


def test_import_areas_lambert93_shapefile_is_reprojected_and_tags_content(
    db, communes_file, districts_shapefile, client
):
    works = WorksFactory(
        geometry=Point(CENTRE_LON + 0.001, CENTRE_LAT, srid=4326), urgency=Urgency.IMPORTANT
    )
    _run(
        str(communes_file), "--name-field", "NOM", "--code-field", "INSEE_COM", "--kind", "commune"
    )
    out = _run(
        str(districts_shapefile),
        "--name-field",
        "nom_quart",
        "--code-field",
        "code_iris",
        "--kind",
        "district",
    )
    assert "2 created" in out and "items re-tagged" in out
    centre = Area.objects.get(code="699990101")
    assert centre.kind == AreaKind.DISTRICT
    assert centre.parent == Area.objects.get(code="69999")
    # Back from Lambert-93 to WGS 84 within a centimetre or so of the drawn corners.
    extent = centre.geometry.extent
    assert extent == pytest.approx(
        (CENTRE_LON - 0.004, CENTRE_LAT - 0.004, CENTRE_LON + 0.004, CENTRE_LAT + 0.004), abs=1e-6
    )
    # The works inside got the district (and keeps its commune).
    assert set(works.areas.values_list("code", flat=True)) == {"69999", "699990101"}
    # In the API …
    listed = client.get("/api/v1/areas/").json()
    rows = listed["results"] if isinstance(listed, dict) and "results" in listed else listed
    names = json.dumps(rows, ensure_ascii=False)
    assert "Centre-Ville" in names and "La Gare" in names
    # … the admin …
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get("/admin/core/area/").content.decode()
    assert "Centre-Ville" in page and "La Gare" in page
    # … and the audience: a resident at home in the district is counted under it.
    resident = make_resident(push_token="token-centre")
    Place.objects.create(
        device=resident.device,
        label="home",
        location=Point(CENTRE_LON + 0.001, CENTRE_LAT, srid=4326),
        radius_m=500,
    )
    assert ("Centre-Ville", 1) in reach_by_area(works)


def test_import_areas_updates_by_code_and_retags(db, tmp_path, districts_shapefile):
    args = ("--name-field", "nom_quart", "--code-field", "code_iris", "--kind", "district")
    _run(str(districts_shapefile), *args)
    renamed = tmp_path / "renamed.gpkg"
    _ogr("-f", "GPKG", str(renamed), str(_districts_geojson(tmp_path, name="Centre historique")))
    out = _run(str(renamed), *args)
    assert "0 created, 1 updated, 1 unchanged" in out
    assert Area.objects.get(code="699990101").name == "Centre historique"
    assert Area.objects.filter(kind=AreaKind.DISTRICT).count() == 2


def test_import_areas_missing_field_names_the_available_ones_and_changes_nothing(db, communes_file):
    with pytest.raises(CommandError, match="INSEE_COM"):
        _run(str(communes_file), "--name-field", "NOM", "--code-field", "CODE", "--kind", "commune")
    assert not Area.objects.exists()


def test_import_areas_unreadable_file_changes_nothing(db, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="illisible"):
        _run(str(bad), "--name-field", "NOM", "--code-field", "INSEE_COM", "--kind", "commune")
    assert not Area.objects.exists()


def test_import_areas_duplicate_code_refuses_the_whole_file(db, tmp_path):
    path = tmp_path / "dup.geojson"
    path.write_text(
        json.dumps(
            _collection(
                [
                    ({"NOM": "A", "INSEE_COM": "1"}, _square(CENTRE_LON, CENTRE_LAT, 0.01)),
                    ({"NOM": "B", "INSEE_COM": "1"}, _square(CENTRE_LON + 0.1, CENTRE_LAT, 0.01)),
                ]
            )
        )
    )
    with pytest.raises(CommandError, match="double"):
        _run(str(path), "--name-field", "NOM", "--code-field", "INSEE_COM", "--kind", "commune")
    assert not Area.objects.exists()
