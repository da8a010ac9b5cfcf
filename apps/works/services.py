"""Writes on roadworks: save with periods, cancel, and the planned → active → completed clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import signals
from apps.core.services import content_save
from apps.works.models import Works, WorksPeriod, WorkStatus


def _status_for_dates(works: Works, now: datetime) -> str:
    if works.end_at <= now:
        return WorkStatus.COMPLETED
    if works.start_at <= now:
        return WorkStatus.ACTIVE
    return WorkStatus.PLANNED


@transaction.atomic
def works_save(
    *,
    works: Works,
    periods: Iterable[WorksPeriod] | None = None,
    user: Any = None,
) -> list[str]:
    """Save roadworks (and replace their periods when given); return material changes.

    The lifecycle status follows the dates unless the works were cancelled.
    """
    if works.work_status != WorkStatus.CANCELLED:
        works.work_status = _status_for_dates(works, timezone.now())
    changes = content_save(item=works, user=user)
    if periods is not None:
        works.periods.all().delete()
        for period in periods:
            period.works = works
            period.full_clean()
            period.save()
    return changes


@transaction.atomic
def works_cancel(*, works: Works, user: Any = None) -> Works:
    """Cancel roadworks: they stay visible as cancelled, and an update push goes out."""
    fresh = Works.objects.select_for_update().get(pk=works.pk)
    if fresh.work_status == WorkStatus.CANCELLED:
        return fresh
    if fresh.work_status == WorkStatus.COMPLETED:
        raise ValidationError(_("Des travaux terminés ne peuvent pas être annulés."))
    fresh.work_status = WorkStatus.CANCELLED
    fresh.save(update_fields=["work_status", "updated_at"])
    works.work_status = fresh.work_status
    if fresh.is_public:
        signals.content_changed.send(sender=Works, item=fresh, changes=["work_status"])
    signals.content_saved.send(sender=Works, item_type=Works.type_code, item_id=fresh.pk)
    return fresh


def works_status_refresh(*, at: datetime | None = None) -> int:
    """Move works along planned → active → completed as their dates pass; return how many."""
    now = at or timezone.now()
    moved = 0
    for target, queryset in (
        (
            WorkStatus.ACTIVE,
            Works.objects.filter(work_status=WorkStatus.PLANNED, start_at__lte=now, end_at__gt=now),
        ),
        (
            WorkStatus.COMPLETED,
            Works.objects.filter(
                work_status__in=[WorkStatus.PLANNED, WorkStatus.ACTIVE], end_at__lte=now
            ),
        ),
    ):
        ids = list(queryset.values_list("pk", flat=True))
        if ids:
            moved += Works.objects.filter(pk__in=ids).update(work_status=target, updated_at=now)
            for pk in ids:
                signals.content_saved.send(sender=Works, item_type=Works.type_code, item_id=pk)
    return moved
