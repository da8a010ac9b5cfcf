"""Roadworks API: time, status and impact filters, detail fields, publishing, cancelling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.gis.geos import LineString, MultiLineString
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core import signals
from apps.core.geo import WGS84
from apps.works.models import Works, WorksPeriod, WorkStatus
from apps.works.services import works_save
from tests.api_support import key_client, published_works

pytestmark = pytest.mark.django_db
URL = "/api/v1/works/"


def _aware(day: date, hour: int = 8) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _ids(params) -> set[int]:
    response = APIClient().get(URL, params)
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


@time_machine.travel("2026-03-02T09:00:00+01:00", tick=False)  # a Monday
def test_active_on_uses_dates_and_weekday_periods(mobility):
    monday = date(2026, 3, 2)
    continuous = published_works(start_at=_aware(monday), end_at=_aware(monday + timedelta(10)))
    weekdays = published_works(start_at=_aware(monday), end_at=_aware(monday + timedelta(10)))
    WorksPeriod.objects.create(
        works=weekdays, start_date=monday, end_date=monday + timedelta(10), weekdays="12345"
    )
    later = published_works(
        start_at=_aware(monday + timedelta(20)), end_at=_aware(monday + timedelta(30))
    )
    saturday = monday + timedelta(days=5)

    assert _ids({"active_on": "2026-03-03"}) == {continuous.pk, weekdays.pk}
    assert _ids({"active_on": saturday.isoformat()}) == {continuous.pk}
    assert _ids({"active_on": "2026-03-25"}) == {later.pk}


@time_machine.travel("2026-03-02T09:00:00+01:00", tick=False)
def test_status_filter_follows_the_works_lifecycle(mobility):
    now = timezone.now()
    active = published_works(start_at=now - timedelta(days=1), end_at=now + timedelta(days=5))
    planned = published_works(start_at=now + timedelta(days=3), end_at=now + timedelta(days=5))
    cancelled = published_works(start_at=now + timedelta(days=3), end_at=now + timedelta(days=9))
    key_client(cancelled.organization).patch(
        f"{URL}{cancelled.pk}/", {"work_status": "cancelled"}, format="json"
    )

    assert _ids({"status": "active"}) == {active.pk}
    assert _ids({"status": "planned,cancelled"}) == {planned.pk, cancelled.pk}
    listed = APIClient().get(f"{URL}{cancelled.pk}/").json()
    assert listed["work_status"] == "cancelled"


def test_impact_filter_matches_any_of_the_modes(mobility):
    road = published_works(impacts_road=True)
    bike = published_works(impacts_bike_lane=True, impacts_sidewalk=True)
    published_works(impacts_parking=True)

    assert _ids({"impact": "road"}) == {road.pk}
    assert _ids({"impact": "bike_lane,road"}) == {road.pk, bike.pk}
    item = APIClient().get(f"{URL}{bike.pk}/").json()
    assert item["impacts"] == ["sidewalk", "bike_lane"]


def test_detail_carries_periods_restrictions_and_detour(mobility):
    detour = MultiLineString(LineString((4.83, 45.76), (4.84, 45.77)), srid=WGS84)
    works = published_works(
        road_state="single_lane_alternating",
        lanes_closed=1,
        road_names=["rue Garibaldi"],
        restrictions=[
            {"type": "reduced-height", "value": 350, "unit": "centimeters"},
            {"type": "no-trucks"},
        ],
        reduced_speed_limit_kph=30,
        detour_text_fr="Par le cours Lafayette",
        detour_geometry=detour,
        contractor="Eiffage",
    )
    WorksPeriod.objects.create(
        works=works,
        start_date=date(2030, 1, 1),
        end_date=date(2030, 1, 31),
        weekdays="12345",
        daily_start_time=time(21),
        daily_end_time=time(5),
    )

    data = APIClient().get(f"{URL}{works.pk}/").json()

    assert data["road_state"] == "single_lane_alternating" and data["lanes_closed"] == 1
    assert data["road_names"] == ["rue Garibaldi"]
    assert data["restrictions"] == [
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "no-trucks"},
    ]
    assert data["periods"] == [
        {
            "start_date": "2030-01-01",
            "end_date": "2030-01-31",
            "weekdays": "12345",
            "daily_start_time": "21:00:00",
            "daily_end_time": "05:00:00",
        }
    ]
    assert data["detour"]["text"] == "Par le cours Lafayette"
    assert data["detour"]["geometry"]["type"] == "MultiLineString"
    assert data["contractor"] == "Eiffage" and data["reduced_speed_limit_kph"] == 30


def test_publishing_works_with_periods_impacts_and_detour(city, mobility, centre):
    start = timezone.now() + timedelta(days=2)
    body = {
        "title_fr": "Travaux de voirie rue Garibaldi",
        "category": "mobilite",
        "geometry": {"type": "LineString", "coordinates": [[4.8357, 45.764], [4.8387, 45.765]]},
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=20)).isoformat(),
        "road_state": "closed",
        "impacts": ["road", "bus"],
        "detour_geometry": {"type": "LineString", "coordinates": [[4.83, 45.76], [4.84, 45.77]]},
        "periods": [
            {
                "start_date": start.date().isoformat(),
                "end_date": start.date().isoformat(),
                "weekdays": "1234567",
                "daily_start_time": "21:00",
                "daily_end_time": "05:00",
            }
        ],
        "restrictions": [{"type": "local-access-only"}],
        "status": "published",
    }

    response = key_client(city).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    works = Works.objects.get(pk=response.json()["id"])
    assert works.work_status == WorkStatus.PLANNED  # follows the dates
    assert (works.impacts_road, works.impacts_bus, works.impacts_parking) == (True, True, False)
    assert works.detour_geometry.geom_type == "MultiLineString"
    assert works.periods.get().is_overnight
    assert list(works.areas.values_list("slug", flat=True)) == ["centre"]
    assert response.json()["impacts"] == ["road", "bus"]


def test_cancelling_public_works_goes_through_works_cancel(city, mobility):
    works = published_works(organization=city)
    changes = []

    def receiver(sender, item, changes_=changes, **kwargs):
        changes_.append(kwargs["changes"])

    signals.content_changed.connect(receiver)
    try:
        response = key_client(city).patch(
            f"{URL}{works.pk}/", {"work_status": "cancelled"}, format="json"
        )
    finally:
        signals.content_changed.disconnect(receiver)

    assert response.status_code == 200
    works.refresh_from_db()
    assert works.work_status == WorkStatus.CANCELLED
    assert ["work_status"] in changes  # the update push of a cancellation
    # Dates passing do not revive cancelled works.
    works_save(works=works)
    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.CANCELLED
