"""The pipeline end to end in process (eager tasks, log backend): triggers, audience, sending."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString

from apps.core.models import Urgency
from apps.core.services import content_publish, content_save
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from tests.factories import CENTRE_LAT, CENTRE_LON, CategoryFactory, WorksFactory
from tests.notifications.helpers import FAR, phone, pushed_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def test_publishing_a_roadwork_notifies_exactly_its_audience(django_capture_on_commit_callbacks):
    mobility, culture = CategoryFactory(slug="mobilite"), CategoryFactory(slug="culture")
    near_follower = phone(follows=[mobility])
    near_other = phone(follows=[culture])
    far_follower = phone(at=FAR, follows=[mobility])
    works = WorksFactory(category=mobility, notify=True)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    notification = Notification.objects.get(kind=Kind.NEW)
    assert notification.targeted == 1
    assert pushed_tokens() == [near_follower.push_token]
    delivery = Delivery.objects.get()
    assert delivery.device == near_follower
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.why["category"] is True
    assert delivery.why["place"]["label"] == "home"
    assert 0 <= delivery.why["place"]["distance_m"] < 120  # places are snapped to ~100 m
    assert {near_other.pk, far_follower.pk}.isdisjoint({delivery.device_id})


def test_update_replaces_the_earlier_push(django_capture_on_commit_callbacks):
    mobility = CategoryFactory(slug="mobilite")
    device = phone(follows=[mobility])
    works = WorksFactory(category=mobility, notify=True)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    works.refresh_from_db()
    works.geometry = LineString(
        (CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 0.001, CENTRE_LAT), srid=4326
    )
    with django_capture_on_commit_callbacks(execute=True):
        content_save(item=works)
    records = get_gateway().records()
    assert [r.push.token for r in records] == [device.push_token] * 2
    assert records[0].push.tag == records[1].push.tag == f"works-{works.pk}"
    assert Notification.objects.filter(kind=Kind.UPDATE).count() == 1
    assert "lieu" in records[1].push.body or "location" in records[1].push.body
    assert records[1].push.urgency == Urgency.INFO
