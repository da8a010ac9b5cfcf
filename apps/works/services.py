"""Writes on roadworks: apply a write (API, admin, imports), save with periods, cancel, and the
planned → active → completed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiLineString
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import signals
from apps.core.audit.actors import with_user
from apps.core.bulk import contents_announce, contents_create, rows_create, rows_validate
from apps.core.models import Organization
from apps.core.services import CONTENT_FIELDS, content_apply, content_save
from apps.works.models import Impact, Works, WorksPeriod, WorkStatus

#: The boolean column of each impacted mode (``Impact`` code → ``impacts_<code>``).
IMPACT_FIELDS: dict[str, str] = {impact: f"impacts_{impact}" for impact in Impact.values}

#: Columns a roadworks write copies as given; ``work_status``, ``impacted_systems`` and
#: ``periods`` have their own rules (``works_apply``).
WORKS_FIELDS: tuple[str, ...] = (
    *CONTENT_FIELDS,
    "start_at",
    "end_at",
    "work_type",
    "severity",
    "road_state",
    "vehicle_impact",
    "direction",
    "lanes_closed",
    "lanes",
    "night_work",
    "road_names",
    "restrictions",
    "reduced_speed_limit_kph",
    "detour_text_fr",
    "detour_text_en",
    "detour_geometry",
    "contractor",
    *IMPACT_FIELDS.values(),
)


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
        for old in works.periods.all():
            with_user(old, user).delete()
        for period in periods:
            period.works = works
            period.full_clean()
            with_user(period, user).save()
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
    with_user(fresh, user)
    fresh.save(update_fields=["work_status", "updated_at"])
    works.work_status = fresh.work_status
    if fresh.is_public:
        signals.content_changed.send(sender=Works, item=fresh, changes=["work_status"])
    signals.content_saved.send(sender=Works, item_type=Works.type_code, item_id=fresh.pk)
    return fresh


def _as_multi(geometry: GEOSGeometry | None) -> GEOSGeometry | None:
    """A detour stored as a MultiLineString: a single line becomes a one-line collection."""
    if geometry is not None and geometry.geom_type == "LineString":
        return MultiLineString(geometry, srid=geometry.srid)
    return geometry


@transaction.atomic
def works_apply(
    *,
    works: Works | None = None,
    data: Mapping[str, Any],
    organization: Organization | None = None,
    user: Any = None,
) -> Works:
    """Create (``works=None``) or update roadworks from validated ``data`` (``content_apply``).

    Rules of the type, whoever writes: ``impacted_systems`` (a list of ``Impact`` codes)
    replaces the impacted modes; a line detour is stored as a MultiLineString; ``periods``
    (mappings or ``WorksPeriod`` rows) replaces the periods, which are kept without it;
    ``work_status`` can only be ``cancelled``: new works are created cancelled, existing ones
    are cancelled by ``works_cancel`` (an update push when public) before any lifecycle step.
    """
    values = dict(data)
    item = works if works is not None else Works()
    created = item.pk is None
    impacts = values.pop("impacted_systems", None)
    if impacts is not None:
        values.update({field: code in impacts for code, field in IMPACT_FIELDS.items()})
    if "detour_geometry" in values:
        values["detour_geometry"] = _as_multi(values["detour_geometry"])
    periods = values.pop("periods", None)
    rows = (
        None
        if periods is None
        else [WorksPeriod(**p) if isinstance(p, Mapping) else p for p in periods]
    )
    wanted = values.pop("work_status", None)
    if wanted is not None and wanted != WorkStatus.CANCELLED:
        raise ValidationError(
            {"work_status": _("Seule l'annulation se demande ; l'état suit les dates.")}
        )
    cancel = wanted == WorkStatus.CANCELLED

    def save(saved: Any) -> None:
        if cancel and created:
            saved.work_status = WorkStatus.CANCELLED
        works_save(works=saved, periods=rows, user=user)
        if cancel and not created:
            works_cancel(works=saved, user=user)

    content_apply(
        item=item,
        data=values,
        organization=organization,
        user=user,
        fields=WORKS_FIELDS,
        save=save,
    )
    return item


def works_create_many(
    *,
    rows: Sequence[tuple[Works, Iterable[Mapping[str, Any]]]],
    organization: Organization,
    publish_at: datetime | None = None,
    after_insert: Callable[[list[Works]], Any] | None = None,
) -> list[Works]:
    """Create many new works with their periods at once (a first import), in a few queries.

    ``rows`` pairs each new draft ``Works`` (columns set, no pk) with its periods (mappings of
    ``WorksPeriod`` columns). The rules of ``works_apply`` → ``works_save`` and, with
    ``publish_at``, ``content_publish`` for every works not over by then, applied to the batch
    (``apps.core.bulk.contents_create``): the status that follows the dates, a line detour as
    a MultiLineString, validation, areas, the ``new`` push of those that notify. Cancelling is
    not part of it (``works_cancel`` per works: its update push follows the publication).
    ``after_insert`` writes the caller's rows of the new works (an import's records) before
    the batch signals go. Raises ``ValidationError`` if one works or period is refused; the
    caller's transaction then writes nothing.
    """
    now = timezone.now()
    items = []
    for works, _periods in rows:
        works.organization = organization
        works.detour_geometry = _as_multi(works.detour_geometry)  # type: ignore[assignment]
        if works.work_status != WorkStatus.CANCELLED:
            works.work_status = _status_for_dates(works, now)
        items.append(works)
    contents_create(model=Works, items=items, publish_at=publish_at)
    periods = [WorksPeriod(works=works, **spec) for works, specs in rows for spec in specs]
    rows_validate(periods)
    rows_create(WorksPeriod, periods)
    if after_insert is not None:
        after_insert(items)
    contents_announce(model=Works, items=items)
    return items


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
