"""The audience rule (architecture.md §6): one SQL query, its reasons, split by area, plans."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.geo import point
from apps.core.models import Urgency
from apps.notifications import audience as audiences
from apps.notifications.models import Kind, Notification
from apps.residents.models import Device, Place
from apps.residents.spatial import REACH_INDEX_NAME
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    CategoryFactory,
    NewsFactory,
    WorksFactory,
    square,
)
from tests.notifications.helpers import FAR, phone

pytestmark = pytest.mark.django_db

#: 3 km east of the roadwork's start: reached by a 5 km place, not by a 1 km one.
THREE_KM = (CENTRE_LON + 3000 / 77_800, CENTRE_LAT)


@pytest.fixture
def city():
    mobility, culture = CategoryFactory(slug="mobilite"), CategoryFactory(slug="culture")
    district = AreaFactory(slug="centre", name="Centre")
    AreaFactory(slug="loin", name="Loin", geometry=square(*FAR, 0.01))
    works = WorksFactory(category=mobility, urgency=Urgency.INFO)
    works.areas.set([district])
    d = {
        "near_follower": phone(follows=[mobility]),
        "near_other": phone(follows=[culture]),
        "far_follower": phone(at=FAR, follows=[mobility]),
        "area_follower": phone(at=FAR, follows=[mobility], areas=[district]),
        "area_other": phone(at=FAR, follows=[culture], areas=[district]),
        "second_place": phone(at=FAR, follows=[mobility]),
        "wide_radius": phone(at=THREE_KM, radius_m=5000, follows=[mobility]),
        "narrow_radius": phone(at=THREE_KM, radius_m=1000, follows=[mobility]),
        "notifications_off": phone(follows=[mobility], notifications_enabled=False),
        "dead_token": phone(follows=[mobility]),
        "no_token": phone(follows=[mobility]),
        "wants_important": phone(follows=[mobility], min_urgency=Urgency.IMPORTANT),
        "wants_alerts": phone(follows=[culture], min_urgency=Urgency.ALERT),
        "no_place": phone(at=None, follows=[mobility]),
    }
    Place.objects.create(
        device=d["second_place"],
        label="work",
        location=point(CENTRE_LON, CENTRE_LAT),
        radius_m=300,
    )
    Device.objects.filter(pk=d["dead_token"].pk).update(push_token_active=False)
    Device.objects.filter(pk=d["no_token"].pk).update(push_token=None)
    return works, district, d


def _names(devices, queryset) -> set[str]:
    by_pk = {device.pk: name for name, device in devices.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def test_info_roadwork_reaches_category_followers_near_it_or_in_its_areas(city):
    works, _, devices = city
    with CaptureQueriesContext(connection) as queries:
        found = _names(devices, audiences.audience(works))
    assert len(queries) == 1
    assert found == {"near_follower", "area_follower", "second_place", "wide_radius"}


def test_important_roadwork_skips_the_category_filter(city):
    works, _, devices = city
    works.urgency = Urgency.IMPORTANT
    with CaptureQueriesContext(connection) as queries:
        found = _names(devices, audiences.audience(works))
    assert len(queries) == 1
    assert found == {
        "near_follower", "near_other", "area_follower", "area_other", "second_place",
        "wide_radius", "wants_important",
    }  # fmt: skip


def test_alert_reaches_even_those_who_want_only_alerts(city):
    works, _, devices = city
    works.urgency = Urgency.ALERT
    assert "wants_alerts" in _names(devices, audiences.audience(works))


def test_city_wide_item_reaches_every_pushable_follower():
    mobility = CategoryFactory(slug="mobilite")
    near, far, nowhere = (
        phone(follows=[mobility]),
        phone(at=FAR, follows=[mobility]),
        phone(at=None, follows=[mobility]),
    )
    phone(follows=[CategoryFactory(slug="culture")])
    news = NewsFactory(category=mobility, geometry=None)
    assert set(audiences.audience(news)) == {near, far, nowhere}


def test_deliveries_copy_the_audience_with_the_reasons(city):
    works, _, devices = city
    notification = Notification.objects.create(
        key="test", kind=Kind.NEW, item_type="works", item_id=works.pk
    )
    inserted = audiences.insert_deliveries(
        notification.pk, audiences.with_why(audiences.audience(works), works)
    )
    assert inserted == 4
    why = {d.device_id: d.why for d in notification.deliveries.all()}
    assert why[devices["area_follower"].pk]["area"] == "Centre"
    assert why[devices["area_follower"].pk]["place"] is None
    assert why[devices["second_place"].pk]["place"]["label"] == "work"
    # 3 km from the start, ~250 m less to the end of the line, place snapped to 0.001°.
    assert why[devices["wide_radius"].pk]["place"]["distance_m"] == pytest.approx(2750, abs=30)
    assert all(w["category"] is True and w["urgency"] == Urgency.INFO for w in why.values())
    # Idempotent: the same audience again adds nothing.
    assert (
        audiences.insert_deliveries(
            notification.pk, audiences.with_why(audiences.audience(works), works)
        )
        == 0
    )


def test_reach_by_area_splits_the_whole_audience(city):
    works, _, _ = city
    AreaFactory(slug="est", name="Est", geometry=square(THREE_KM[0], THREE_KM[1], 0.005))
    split = dict(audiences.reach_by_area(works))
    assert sum(split.values()) == audiences.audience(works).count() == 4
    # near_follower (centre), area_follower and second_place (first place far, in "Loin"),
    # wide_radius (in "Est").
    assert split == {"Centre": 1, "Loin": 2, "Est": 1}


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("urgency", [Urgency.INFO, Urgency.IMPORTANT])
def test_audience_plan_uses_the_reach_box_index(city, urgency):
    works, _, _ = city
    works.urgency = urgency
    plan = _plan(audiences.audience(works).values("pk"))
    assert REACH_INDEX_NAME in plan
    # (Which device index serves the join depends on the table sizes: the pushable partial
    # index in the bench city, the primary key in this small one.)
    assert "residents_device" in plan


def test_reasons_test_each_device_own_places_not_the_reach_boxes(city):
    """with_why's nearest-place subquery must not scan the reach-box index per device (the
    bench city's 20,000-device audience took minutes that way): it adds no box test."""
    works, _, _ = city
    box = "ST_Expand("
    plain = audiences.audience(works).query.sql_with_params()[0].count(box)
    annotated = audiences.with_why(audiences.audience(works), works).query.sql_with_params()[0]
    annotated_count = annotated.count(box)
    assert plain >= 1 and annotated_count == plain
