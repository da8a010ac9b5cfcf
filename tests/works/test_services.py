"""Roadworks: status follows the dates, periods and the active_on filter, cancellation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.works.models import Works, WorksPeriod, WorkStatus
from apps.works.services import works_cancel, works_save, works_status_refresh
from apps.works.tasks import works_status_tick
from tests.factories import CategoryFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _aware(day: date, hour: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _works(start: date, end: date, **fields) -> Works:
    works = Works(
        title_fr="Réfection de la chaussée",
        category=CategoryFactory(slug="voirie"),
        organization=OrganizationFactory(slug="ville"),
        start_at=_aware(start, 7),
        end_at=_aware(end, 18),
        **fields,
    )
    return works


def test_status_follows_dates_on_save_and_in_the_beat_task():
    today = timezone.localdate()
    works = _works(today + timedelta(days=1), today + timedelta(days=3))
    works_save(works=works)
    assert works.work_status == WorkStatus.PLANNED

    with time_machine.travel(_aware(today + timedelta(days=2), 12), tick=False):
        assert works_status_tick() == 1
    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.ACTIVE

    with time_machine.travel(_aware(today + timedelta(days=4), 12), tick=False):
        assert works_status_refresh() == 1
    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.COMPLETED


def test_active_on_respects_periods_and_weekdays():
    monday = date(2027, 1, 4)
    works = _works(monday, monday + timedelta(days=13))
    works_save(
        works=works,
        periods=[
            WorksPeriod(
                start_date=monday,
                end_date=monday + timedelta(days=13),
                weekdays="12345",
                daily_start_time=time(21),
                daily_end_time=time(5),
            )
        ],
    )
    continuous = _works(monday + timedelta(days=5), monday + timedelta(days=6))
    works_save(works=continuous)

    saturday = monday + timedelta(days=5)
    assert set(Works.objects.active_on(monday)) == {works}
    assert set(Works.objects.active_on(saturday)) == {continuous}
    assert works.periods.get().is_overnight


def test_invalid_period_is_refused_and_nothing_is_saved():
    monday = date(2027, 1, 4)
    works = _works(monday, monday + timedelta(days=2))
    with pytest.raises(ValidationError):
        works_save(
            works=works,
            periods=[WorksPeriod(start_date=monday, end_date=monday, weekdays="71")],
        )
    assert not Works.objects.filter(title_fr="Réfection de la chaussée").exists()


def test_cancelled_works_stay_cancelled_whatever_the_dates():
    today = timezone.localdate()
    works = _works(today - timedelta(days=1), today + timedelta(days=3))
    works_save(works=works)
    works_cancel(works=works)

    works_save(works=Works.objects.get(pk=works.pk))
    works_status_refresh(at=_aware(today + timedelta(days=5)))

    assert Works.objects.get(pk=works.pk).work_status == WorkStatus.CANCELLED
    assert not Works.objects.active_on(today).filter(pk=works.pk).exists()
