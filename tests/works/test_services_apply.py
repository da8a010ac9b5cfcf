"""works_apply: the rules of a roadworks write, whoever writes (API, admin, imports)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.models import Status
from apps.core.services import content_publish
from apps.notifications.models import Kind, Notification
from apps.works.models import Works, WorkStatus
from apps.works.services import works_apply
from tests.factories import CENTRE_LAT, CENTRE_LON
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db
LINE = LineString((CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 0.003, CENTRE_LAT), srid=4326)


def _data(category, **extra):
    start = timezone.now() + timedelta(days=2)
    return {
        "title_fr": "Réfection rue Garibaldi",
        "category": category,
        "geometry": LINE,
        "start_at": start,
        "end_at": start + timedelta(days=5),
        **extra,
    }


def _published(city, category, capture, **extra):
    works = works_apply(data=_data(category, notify=True, **extra), organization=city)
    with capture(execute=True):
        content_publish(item=works)
    return works


def test_works_apply_creates_works_with_impacts_detour_and_periods(city, mobility, centre):
    today = timezone.localdate()
    works = works_apply(
        data=_data(
            mobility,
            impacted_systems=["road", "bus"],
            detour_geometry=LINE,
            periods=[{"start_date": today, "end_date": today + timedelta(days=3)}],
        ),
        organization=city,
    )

    stored = Works.objects.get(pk=works.pk)
    assert (stored.status, stored.work_status) == (Status.DRAFT, WorkStatus.PLANNED)
    assert stored.impacted_systems == ["road", "bus"]
    assert stored.detour_geometry.geom_type == "MultiLineString"
    assert list(stored.periods.values_list("start_date", flat=True)) == [today]
    assert list(stored.areas.all()) == [centre]


def test_works_apply_update_keeps_periods_and_impacts_unless_given(city, mobility):
    today = timezone.localdate()
    works = works_apply(
        data=_data(
            mobility,
            impacted_systems=["parking"],
            periods=[{"start_date": today, "end_date": today}],
        ),
        organization=city,
    )

    works_apply(works=works, data={"title_fr": "Autre titre"})
    assert works.impacted_systems == ["parking"] and works.periods.count() == 1

    works_apply(works=works, data={"impacted_systems": [], "periods": []})
    stored = Works.objects.get(pk=works.pk)
    assert stored.impacted_systems == [] and not stored.periods.exists()


def test_works_apply_creates_cancelled_works_without_an_update(city, mobility):
    works = works_apply(
        data=_data(mobility, work_status=WorkStatus.CANCELLED, status=Status.PUBLISHED),
        organization=city,
    )

    assert (works.status, works.work_status) == (Status.PUBLISHED, WorkStatus.CANCELLED)
    assert not Notification.objects.filter(kind=Kind.UPDATE).exists()


def test_works_apply_cancels_public_works_with_one_update_push(
    city, mobility, django_capture_on_commit_callbacks
):
    phone(follows=[mobility])
    works = _published(city, mobility, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(kind=Kind.NEW).count() == 1

    works_apply(works=works, data={"work_status": WorkStatus.CANCELLED})

    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.CANCELLED
    update = Notification.objects.get(kind=Kind.UPDATE)
    assert update.tag == f"works-{works.pk}"


def test_works_apply_material_change_of_public_works_sends_an_update(
    city, mobility, django_capture_on_commit_callbacks
):
    phone(follows=[mobility])
    works = _published(city, mobility, django_capture_on_commit_callbacks)

    works_apply(works=works, data={"summary_fr": "Précisions"})  # not material
    assert not Notification.objects.filter(kind=Kind.UPDATE).exists()

    works_apply(works=works, data={"end_at": works.end_at + timedelta(days=7)})
    assert Notification.objects.filter(kind=Kind.UPDATE).count() == 1


@pytest.mark.parametrize("status", [WorkStatus.ACTIVE, WorkStatus.COMPLETED, WorkStatus.PLANNED])
def test_works_apply_refuses_statuses_that_follow_the_dates(city, mobility, status):
    with pytest.raises(ValidationError) as refused:
        works_apply(data=_data(mobility, work_status=status), organization=city)

    assert "work_status" in refused.value.message_dict
    assert not Works.objects.exists()


def test_works_apply_refuses_to_cancel_completed_works(city, mobility):
    ended = timezone.now() - timedelta(days=10)
    works = works_apply(
        data=_data(mobility, start_at=ended - timedelta(days=3), end_at=ended),
        organization=city,
    )
    assert works.work_status == WorkStatus.COMPLETED

    with pytest.raises(ValidationError):
        works_apply(works=works, data={"work_status": WorkStatus.CANCELLED, "title_fr": "X"})

    stored = Works.objects.get(pk=works.pk)
    assert (stored.work_status, stored.title_fr) == (
        WorkStatus.COMPLETED,
        "Réfection rue Garibaldi",
    )


def test_works_apply_stays_in_the_editors_organizations(city, metropole, mobility, city_editor):
    works = works_apply(data=_data(mobility), organization=metropole)

    with pytest.raises(PermissionDenied):
        works_apply(works=works, data={"work_status": WorkStatus.CANCELLED}, user=city_editor)

    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.PLANNED
