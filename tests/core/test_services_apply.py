"""content_apply: the one write path of content (organization scope, fields, lifecycle step)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.models import Status
from apps.core.services import CONTENT_FIELDS, content_apply
from apps.events.api.serializers import EventWriteSerializer
from apps.events.services import EVENT_FIELDS
from apps.news.api.serializers import NewsWriteSerializer
from apps.news.models import News
from apps.news.services import NEWS_FIELDS
from apps.works.api.serializers import WorksWriteSerializer
from apps.works.services import WORKS_FIELDS
from tests.factories import NewsFactory

pytestmark = pytest.mark.django_db


def _data(category, **extra):
    return {"title_fr": "Fermeture de la piscine", "category": category, **extra}


def test_content_apply_creates_a_draft_with_its_areas(city, mobility, centre, city_editor):
    from django.contrib.gis.geos import Point

    news = content_apply(
        item=News(),
        data=_data(mobility, geometry=Point(centre.geometry.centroid.coords, srid=4326)),
        organization=city,
        user=city_editor,
    )

    stored = News.objects.get(pk=news.pk)
    assert (stored.status, stored.organization, stored.created_by) == (
        Status.DRAFT,
        city,
        city_editor,
    )
    assert list(stored.areas.all()) == [centre]


def test_content_apply_takes_the_lifecycle_step_after_saving(city, mobility):
    later = timezone.now() + timedelta(days=2)

    news = content_apply(
        item=News(),
        data=_data(mobility, status=Status.SCHEDULED, publish_at=later),
        organization=city,
    )

    assert (news.status, news.publish_at) == (Status.SCHEDULED, later)


def test_content_apply_updates_only_the_fields_given(city, mobility):
    news = NewsFactory(organization=city, category=mobility, summary_fr="Avant")

    content_apply(item=news, data={"title_fr": "Nouveau titre"})

    stored = News.objects.get(pk=news.pk)
    assert (stored.title_fr, stored.summary_fr) == ("Nouveau titre", "Avant")


def test_content_apply_refuses_an_editor_of_another_organization(
    city, metropole, mobility, metropole_editor
):
    with pytest.raises(PermissionDenied):
        content_apply(item=News(), data=_data(mobility), organization=city, user=metropole_editor)

    assert not News.objects.exists()


def test_content_apply_refuses_to_move_another_organizations_item(
    city, metropole, mobility, metropole_editor
):
    news = NewsFactory(organization=city, category=mobility, title_fr="De la ville")

    with pytest.raises(PermissionDenied):
        content_apply(
            item=news, data={"title_fr": "Pris"}, organization=metropole, user=metropole_editor
        )

    stored = News.objects.get(pk=news.pk)
    assert (stored.organization, stored.title_fr) == (city, "De la ville")


def test_content_apply_lets_superusers_and_the_system_publish_for_anyone(city, mobility, superuser):
    by_superuser = content_apply(
        item=News(), data=_data(mobility), organization=city, user=superuser
    )
    by_import = content_apply(item=News(), data=_data(mobility), organization=city, user=None)

    assert by_superuser.organization == by_import.organization == city


def test_content_apply_refuses_a_field_it_does_not_know(city, mobility):
    with pytest.raises(TypeError, match="published_at"):
        content_apply(
            item=News(), data=_data(mobility, published_at=timezone.now()), organization=city
        )

    assert not News.objects.exists()


def test_content_apply_service_refusal_rolls_everything_back(city, mobility):
    past = timezone.now() - timedelta(days=1)

    with pytest.raises(ValidationError):
        content_apply(
            item=News(),
            data=_data(mobility, status=Status.SCHEDULED, publish_at=past),
            organization=city,
        )

    assert not News.objects.exists()


@pytest.mark.parametrize(
    "serializer,fields,own",
    [
        (NewsWriteSerializer, NEWS_FIELDS, {"links"}),
        (WorksWriteSerializer, WORKS_FIELDS, {"impacted_systems", "periods", "work_status"}),
        (EventWriteSerializer, EVENT_FIELDS, {"venue", "extra_dates", "event_status"}),
    ],
    ids=["news", "works", "events"],
)
def test_content_apply_fields_cover_every_writable_field_of_the_api(serializer, fields, own):
    writable = {field.source for field in serializer().fields.values() if not field.read_only} - {
        "status",
        "organization",
    }

    assert writable == (set(fields) & writable) | own
    assert set(CONTENT_FIELDS) <= set(fields)
