"""Geocoding: the built-in search over the city's streets, venues and areas; the BAN-shaped
remote backends (Géoplateforme, addok) against a fake server with errors and timeouts; the
public proxy (optional, rate-limited, 4xx on bad input, stores and logs nothing) and the staff
search box endpoint."""

from __future__ import annotations

import logging

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.interop.geocoding.services import street_save
from apps.interop.geocoding.text import accent_regex, normalise, score, split_number
from backend.access_log import redact_query, redact_text, redact_uri
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, UserFactory, VenueFactory
from tests.staff import staff_login

URL = "/api/v1/geocode/"
ADDRESS = "12 rue de la République"


@pytest.fixture
def streets(db):
    line = MultiLineString(
        LineString((CENTRE_LON, CENTRE_LAT - 0.01), (CENTRE_LON + 0.001, CENTRE_LAT + 0.01)),
        srid=4326,
    )
    street_save(name="rue de la République", geometry=line, postal_code="69990", city="Lyonnay")
    other = MultiLineString(
        LineString((CENTRE_LON - 0.01, CENTRE_LAT), (CENTRE_LON + 0.01, CENTRE_LAT)), srid=4326
    )
    street_save(name="avenue Jean-Jaurès", geometry=other, postal_code="69990", city="Lyonnay")


@pytest.fixture
def api_on(settings):
    settings.GEOCODER_API_ENABLED = True
    settings.GEOCODER_BACKEND = "builtin"
    return settings


@pytest.fixture
def remote(settings, fake_geocoder):
    settings.GEOCODER_API_ENABLED = True
    settings.GEOCODER_BACKEND = "geoplateforme"
    settings.GEOCODER_URL = fake_geocoder.url
    settings.GEOCODER_TIMEOUT_S = 0.5
    fake_geocoder.add("12 Rue de la République 69002 Lyon", 4.8357, 45.7606, kind="housenumber")
    return fake_geocoder


def test_geocode_text_folds_accents_numbers_and_scores():
    assert normalise("Rue de la RÉPUBLIQUE !") == "rue de la republique"
    assert split_number("12 bis, rue Pasteur") == ("12", "rue Pasteur")
    assert split_number("rue du 8-Mai-1945") == ("", "rue du 8-Mai-1945")
    assert score("rue de la republique", "rue de la republique") == 1.0
    assert 0 < score("rue repu", "rue de la republique") < 1
    assert score("boulevard", "rue de la republique") == 0
    assert accent_regex("Republique") == "r[eéèêë]p[uùûü]bl[iîï]q[uùûü][eéèêë]"


def test_geocode_builtin_finds_a_street_a_venue_and_an_area_offline(api_on, streets, client):
    VenueFactory(name="Théâtre", address=ADDRESS)
    AreaFactory(slug="saint-clair", name="Saint-Clair")
    body = client.get(URL, {"q": "12 rue de la republique"}).json()
    assert body["backend"] == "builtin"
    first = body["features"][0]
    assert first["properties"]["label"] == "12 rue de la République, 69990 Lyonnay"
    assert first["properties"]["kind"] == "housenumber"
    assert first["geometry"]["type"] == "Point"
    kinds = {f["properties"]["kind"] for f in body["features"]}
    assert "venue" in kinds
    area = client.get(URL, {"q": "saint clair"}).json()["features"][0]
    assert (area["properties"]["label"], area["properties"]["kind"]) == ("Saint-Clair", "area")
    assert client.get(URL, {"q": "rue inconnue du tout"}).json()["features"] == []


def test_geocode_proxy_stores_and_logs_nothing(api_on, streets, client, caplog):
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"q": ADDRESS, "limit": 3})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert "République" not in caplog.text and "Republique" not in caplog.text
    assert "R%C3%A9publique" not in caplog.text


def test_geocode_access_log_redacts_the_query_on_geocoding_paths_only():
    line = "/api/v1/geocode/?q=12+rue+de+la+R%C3%A9publique&limit=5"
    assert redact_uri(line) == "/api/v1/geocode/?q=~&limit=5"
    assert redact_uri("/admin/geocode/?q=rue+Pasteur") == "/admin/geocode/?q=~"
    assert redact_query("q=concert", path="/api/v1/events/") == "q=concert"
    assert "Pasteur" not in redact_text("Error handling request /api/v1/geocode/?q=rue+Pasteur")


def test_geocode_proxy_is_off_unless_enabled(settings, client, db):
    settings.GEOCODER_API_ENABLED = False
    assert client.get(URL, {"q": ADDRESS}).status_code == 404


def test_geocode_off_backend_answers_404(api_on, client, db):
    api_on.GEOCODER_BACKEND = "off"
    assert client.get(URL, {"q": ADDRESS}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "ab"},
        {"q": "x" * 201},
        {"q": ADDRESS, "limit": "0"},
        {"q": ADDRESS, "limit": "50"},
        {"q": ADDRESS, "limit": "trois"},
        {"q": ADDRESS, "lat": "45.7"},
        {"q": ADDRESS, "lat": "95", "lon": "4.8"},
        {"q": ADDRESS, "city": "Lyon"},
    ],
)
def test_geocode_bad_input_is_a_400_and_asks_nobody(api_on, client, db, params, fake_geocoder):
    api_on.GEOCODER_BACKEND = "addok"
    api_on.GEOCODER_URL = fake_geocoder.url
    response = client.get(URL, params)
    assert response.status_code == 400
    assert fake_geocoder.requests == []


def test_geocode_proxy_is_rate_limited(api_on, streets, client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "geocode": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    statuses = [client.get(URL, {"q": "rue de la"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("backend", ["geoplateforme", "addok"])
def test_geocode_remote_backends_forward_to_the_ban_search(remote, client, db, backend, settings):
    settings.GEOCODER_BACKEND = backend
    body = client.get(
        URL, {"q": "rue de la République", "limit": 2, "lat": "45.76", "lon": "4.83"}
    ).json()
    assert body["backend"] == backend
    place = body["features"][0]
    assert place["properties"] == {
        "label": "12 Rue de la République 69002 Lyon",
        "kind": "housenumber",
        "score": 0.9,
        "postcode": "69990",
        "city": "Lyonnay",
    }
    assert place["geometry"]["coordinates"] == [4.8357, 45.7606]
    asked = remote.requests[-1]
    assert asked["q"] == ["rue de la République"] and asked["limit"] == ["2"]
    assert asked["lat"] == ["45.76"] and asked["lon"] == ["4.83"]


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("status", 502, "geocoder_error"),
        ("garbage", 502, "geocoder_error"),
        ("hang", 504, "geocoder_timeout"),
    ],
)
def test_geocode_remote_faults_are_502_or_504_in_french(remote, client, db, fault, status, code):
    if fault == "status":
        remote.status = 500
    else:
        setattr(remote, fault, True)
    response = client.get(URL, {"q": ADDRESS})
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code
    assert "géocodeur" in body["message"]
    assert ADDRESS not in body["message"]


def test_geocode_staff_endpoint_needs_a_staff_login(client, db):
    response = client.get("/admin/geocode/", {"q": ADDRESS})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_geocode_staff_endpoint_falls_back_to_builtin_when_remote_fails(remote, streets, client):
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    ok = client.get("/admin/geocode/", {"q": "république"}).json()
    assert ok["backend"] == "geoplateforme" and ok["fallback"] == ""
    remote.hang = True
    body = client.get("/admin/geocode/", {"q": "rue de la République"}).json()
    assert body["backend"] == "builtin"
    assert "à temps" in body["fallback"]
    assert body["features"][0]["properties"]["label"].startswith("rue de la République")
    assert client.get("/admin/geocode/", {"q": "ab"}).status_code == 400
    assert client.get("/admin/geocode/", {"q": ADDRESS, "limit": "99"}).status_code == 400


def test_geocode_import_streets_merges_sections_and_finds_them(db, tmp_path, settings):
    import json
    import shutil
    import subprocess
    from io import StringIO

    from django.core.management import call_command

    from apps.interop.geocoding.services import geocode
    from apps.interop.models import Street

    if not shutil.which("ogr2ogr"):
        pytest.skip("gdal-bin (ogr2ogr) needed")
    sections = [
        ("Rue Pasteur", [[CENTRE_LON, CENTRE_LAT], [CENTRE_LON, CENTRE_LAT + 0.002]]),
        ("Rue Pasteur", [[CENTRE_LON, CENTRE_LAT + 0.002], [CENTRE_LON, CENTRE_LAT + 0.004]]),
        (
            "Quai de Saône",
            [[CENTRE_LON - 0.01, CENTRE_LAT], [CENTRE_LON - 0.01, CENTRE_LAT + 0.01]],
        ),
        ("", [[CENTRE_LON, CENTRE_LAT], [CENTRE_LON + 0.001, CENTRE_LAT]]),
    ]
    source = tmp_path / "troncons.geojson"
    source.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"NOM_1_G": name},
                        "geometry": {"type": "LineString", "coordinates": coords},
                    }
                    for name, coords in sections
                ],
            }
        )
    )
    shp = tmp_path / "troncons.shp"
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:2154", str(shp), str(source)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    out = StringIO()
    args = (str(shp), "--name-field", "NOM_1_G", "--city", "Lyonnay", "--postal-code", "69990")
    call_command("import_streets", *args, stdout=out)
    assert out.getvalue().strip() == "2 streets"
    call_command("import_streets", *args, stdout=StringIO())
    assert Street.objects.count() == 2
    pasteur = Street.objects.get(name="Rue Pasteur")
    assert len(pasteur.geometry) == 2
    assert pasteur.geometry.extent[3] == pytest.approx(CENTRE_LAT + 0.004, abs=1e-6)
    settings.GEOCODER_BACKEND = "builtin"
    best = geocode(query="quai de saone").places[0]
    assert best.label == "Quai de Saône, 69990 Lyonnay"
