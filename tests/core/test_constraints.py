"""Database constraints hold even when code bypasses validation; services report them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.models import Status
from apps.core.services import content_save
from apps.events.models import Event
from apps.news.models import News
from apps.works.models import Works, WorksPeriod
from tests.factories import EventFactory, NewsFactory, WorksFactory

pytestmark = pytest.mark.django_db

BOWTIE = Polygon(((0, 0), (1, 1), (1, 0), (0, 1), (0, 0)), srid=4326)


def _violates(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_expires_at_must_follow_publish_at():
    now = timezone.now()
    _violates(lambda: NewsFactory(publish_at=now, expires_at=now - timedelta(hours=1)))


def test_scheduled_needs_a_publication_date():
    _violates(lambda: NewsFactory(status=Status.SCHEDULED, publish_at=None))


def test_geometry_must_be_valid():
    _violates(lambda: NewsFactory(geometry=BOWTIE))


def test_works_end_after_start():
    now = timezone.now()
    _violates(lambda: WorksFactory(start_at=now, end_at=now - timedelta(days=1)))


def test_works_period_end_after_start():
    works = WorksFactory()
    today = timezone.localdate()
    _violates(
        lambda: WorksPeriod.objects.create(
            works=works, start_date=today, end_date=today - timedelta(days=1)
        )
    )


def test_event_end_after_start_and_age_range():
    now = timezone.now()
    _violates(lambda: EventFactory(start_at=now, end_at=now - timedelta(hours=1)))
    _violates(lambda: EventFactory(age_min=12, age_max=8))


def test_content_save_turns_constraint_violations_into_validation_errors():
    news = News(title_fr="Bowtie", geometry=BOWTIE)
    news.category = NewsFactory().category
    news.organization = NewsFactory().organization
    with pytest.raises(ValidationError) as error:
        content_save(item=news)
    assert "géométrie" in str(error.value)
    assert not News.objects.filter(title_fr="Bowtie").exists()


def test_works_invalid_restrictions_are_rejected_by_validation():
    works = WorksFactory.build(restrictions=[{"type": "teleport"}])
    works.category = WorksFactory().category
    works.organization = works.category and WorksFactory().organization
    with pytest.raises(ValidationError):
        content_save(item=works)
    assert Works.objects.count() == 2  # only the two factories' rows


def test_event_validation_rejects_a_bad_rrule():
    event = EventFactory.build(rrule="FREQ=SOMETIMES")
    event.category = EventFactory().category
    event.organization = event.category and EventFactory().organization
    with pytest.raises(ValidationError):
        content_save(item=event)
    assert Event.objects.count() == 2
