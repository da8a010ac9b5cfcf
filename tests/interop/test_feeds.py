"""The open roadworks feeds: valid against the shared schemas, public works only, cacheable."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.gis.geos import LineString, MultiLineString, Point, Polygon
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.geo import WGS84
from apps.works.models import RoadState, Works
from apps.works.services import works_cancel
from tests.factories import CategoryFactory, OrganizationFactory
from tests.interop.support import (
    assert_wzdx_valid,
    assert_xml_valid,
    cifs_incidents,
    published_works,
    weekday_nights,
)

WZDX = "/api/v1/feeds/works.wzdx.geojson"
CIFS = "/api/v1/feeds/works.cifs.xml"
DATEX2 = "/api/v1/feeds/works.datex2.xml"

#: Rue de la République, Lyon, between Cordeliers and Jacobins: lon/lat as GeoJSON has them.
REPUBLIQUE = LineString((4.83597, 45.76330), (4.83442, 45.76040), srid=WGS84)


@pytest.fixture
def owner(db):
    return {"organization": OrganizationFactory(slug="ville"), "category": CategoryFactory()}


def _works(owner, **fields):
    now = timezone.now()
    defaults = {
        "title_fr": "Réfection de la rue de la République",
        "summary_fr": "Chaussée refaite, circulation alternée.",
        "geometry": REPUBLIQUE,
        "start_at": now - timedelta(days=1),
        "end_at": now + timedelta(days=20),
        "road_names": ["Rue de la République"],
        "road_state": RoadState.SINGLE_LANE_ALTERNATING,
        **owner,
    }
    defaults.update(fields)
    periods = defaults.pop("periods", None)
    return published_works(periods=periods, **defaults)


def test_feeds_cifs_polyline_puts_latitude_first(owner):
    _works(owner)

    body = APIClient().get(CIFS).content

    assert_xml_valid("cifs", body)
    (incident,) = cifs_incidents(body)
    numbers = [float(n) for n in incident.findtext("polyline").split()]
    assert numbers == [45.7633, 4.83597, 45.7604, 4.83442]  # lat, lon, lat, lon
    assert incident.findtext("street") == "Rue de la République"
    assert incident.findtext("type") == "CONSTRUCTION"


def test_feeds_datex2_pos_list_puts_latitude_first(owner):
    _works(owner, road_state=RoadState.CLOSED)

    body = APIClient().get(DATEX2).content

    assert_xml_valid("datex2", body)
    text = body.decode()
    assert "<loc:posList>45.763300 4.835970 45.760400 4.834420</loc:posList>" in text
    assert "noEntry" in text


def test_feeds_carry_only_published_works(owner):
    shown = _works(owner)
    Works.objects.create(  # a draft
        title_fr="Brouillon",
        geometry=REPUBLIQUE,
        start_at=timezone.now(),
        end_at=timezone.now() + timedelta(days=3),
        **owner,
    )

    wzdx = APIClient().get(WZDX).json()
    cifs = cifs_incidents(APIClient().get(CIFS).content)

    assert {f["id"] for f in wzdx["features"]} == {str(shown.uuid)}
    assert [i.get("id") for i in cifs] == [str(shown.uuid)]


def test_feeds_answer_304_to_a_matching_etag_and_change_with_the_works(owner):
    works = _works(owner)
    client = APIClient()
    for url in (WZDX, CIFS, DATEX2):
        first = client.get(url)
        assert first.status_code == 200
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    etag = client.get(WZDX)["ETag"]

    works_cancel(works=works)

    assert client.get(WZDX, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_feeds_updated_since_leaves_older_works_out(owner):
    old = _works(owner)
    Works.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    new = _works(owner, title_fr="Autres travaux")
    since = (timezone.now() - timedelta(days=1)).isoformat()

    features = APIClient().get(WZDX, {"updated_since": since}).json()["features"]

    assert {f["id"] for f in features} == {str(new.uuid)}


def test_feeds_refuse_a_malformed_updated_since(db):
    response = APIClient().get(WZDX, {"updated_since": "yesterday"})

    assert response.status_code == 400
    assert "updated_since" in json.dumps(response.json())


@pytest.mark.parametrize("url", [WZDX, CIFS, DATEX2])
def test_feeds_query_count_does_not_grow_with_works(owner, url, django_assert_num_queries):
    for n in range(3):
        _works(
            owner,
            title_fr=f"Travaux {n}",
            periods=[
                weekday_nights(timezone.localdate(), timezone.localdate() + timedelta(days=9))
            ],
        )
    # version aggregate, works with organization and category, their periods
    with django_assert_num_queries(3):
        assert APIClient().get(url).status_code == 200


def test_feeds_cancelled_works_stay_in_wzdx_and_leave_cifs_and_datex2(owner):
    works = _works(owner, road_state=RoadState.CLOSED)
    works_cancel(works=works)

    wzdx = APIClient().get(WZDX).json()
    cifs = APIClient().get(CIFS).content
    datex2 = APIClient().get(DATEX2).content

    assert_wzdx_valid(wzdx)
    assert [f["properties"]["event_status"] for f in wzdx["features"]] == ["cancelled"]
    assert cifs_incidents(cifs) == []
    assert str(works.uuid) not in datex2.decode()


def test_feeds_polygon_site_gets_its_centreline_along_the_long_side(owner):
    # A 200 m by 20 m site, east-west: its centreline runs east-west through the middle.
    site = Polygon(
        (
            (4.8300, 45.7600),
            (4.8326, 45.7600),
            (4.8326, 45.76018),
            (4.8300, 45.76018),
            (4.8300, 45.7600),
        ),
        srid=WGS84,
    )
    _works(owner, geometry=site)

    (feature,) = APIClient().get(WZDX).json()["features"]

    (x1, y1), (x2, y2) = feature["geometry"]["coordinates"]
    assert sorted([x1, x2]) == pytest.approx([4.8300, 4.8326], abs=1e-6)
    assert y1 == pytest.approx(45.76009, abs=1e-6) and y2 == pytest.approx(45.76009, abs=1e-6)


def test_feeds_recurring_works_are_wzdx_occurrences_and_cifs_schedule(owner):
    today = timezone.localdate()
    detour = MultiLineString(LineString((4.836, 45.764), (4.838, 45.762)), srid=WGS84)
    works = _works(
        owner,
        periods=[weekday_nights(today, today + timedelta(days=13))],
        detour_geometry=detour,
        detour_text_fr="Par le quai.",
    )

    wzdx = APIClient().get(WZDX).json()
    cifs = cifs_incidents(APIClient().get(CIFS).content)

    assert_wzdx_valid(wzdx)
    zones = [
        f for f in wzdx["features"] if f["properties"]["core_details"]["event_type"] == "work-zone"
    ]
    detours = [
        f for f in wzdx["features"] if f["properties"]["core_details"]["event_type"] == "detour"
    ]
    assert 9 <= len(zones) <= 11  # weeknights of two weeks, from last night on
    assert all(f["properties"]["start_date"].endswith(("T20:00:00Z", "T21:00:00Z")) for f in zones)
    related = zones[1]["properties"]["core_details"]["related_road_events"]
    assert {"type": "first-occurrence", "id": str(works.uuid)} in related
    assert [d["properties"]["core_details"]["related_road_events"][0] for d in detours] == [
        {"type": "related-work-zone", "id": str(works.uuid)}
    ]
    schedule = cifs[0].find("schedule")
    assert schedule.findtext("monday") == "21:00-23:59"  # Sunday night is off
    assert schedule.findtext("tuesday") == "00:00-05:00,21:00-23:59"
    assert schedule.findtext("saturday") == "00:00-05:00"
    assert schedule.findtext("sunday") is None


def test_feeds_point_works_become_a_two_vertex_line(owner):
    _works(owner, geometry=Point(4.835, 45.763, srid=WGS84))

    body = APIClient().get(CIFS).content

    assert_xml_valid("cifs", body)
    assert cifs_incidents(body)[0].findtext("polyline") == "45.763000 4.835000 45.763000 4.835000"


class DemoCityFeedsTests(TestCase):
    """The three feeds of the demo city validate against the shared schemas."""

    @classmethod
    def setUpTestData(cls) -> None:
        call_command("seed_demo", "--force", stdout=StringIO())

    def test_feeds_of_the_demo_city_validate(self) -> None:
        client = APIClient()
        wzdx = client.get(WZDX)
        cifs = client.get(CIFS)
        datex2 = client.get(DATEX2)

        assert_wzdx_valid(wzdx.json())
        assert_xml_valid("cifs", cifs.content)
        assert_xml_valid("datex2", datex2.content)
        assert len(wzdx.json()["features"]) >= 10
        assert len(cifs_incidents(cifs.content)) >= 5
        assert datex2.content.count(b"<tro:trafficRegulationOrder ") >= 5


def test_feeds_cifs_reads_back_as_the_same_works(owner):
    from apps.interop.cifs.parse import records

    today = timezone.localdate()
    nights = weekday_nights(today, today + timedelta(days=13))
    _works(owner, road_state=RoadState.CLOSED, periods=[nights])

    (record,) = records(APIClient().get(CIFS).content)

    assert record.road_state == RoadState.CLOSED
    assert record.geometry.equals_exact(REPUBLIQUE, tolerance=1e-6)
    (period,) = record.periods
    assert (period.start_date, period.end_date, period.weekdays) == (
        nights.start_date,
        nights.end_date,
        nights.weekdays,
    )
    assert (period.daily_start_time, period.daily_end_time) == (
        nights.daily_start_time,
        nights.daily_end_time,
    )
