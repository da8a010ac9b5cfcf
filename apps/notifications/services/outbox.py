"""Creating notifications and their deliveries (the outbox): publications, updates, reminders,
test pushes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.audit.actors import with_user
from apps.core.bulk import rows_create
from apps.core.models import PublishableContent, Urgency
from apps.events.selectors import occurrences_starting
from apps.notifications import audience as audiences
from apps.notifications import enqueue, texts, timing
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.notifications.services.common import (
    logger,
    tag_for,
)
from apps.notifications.services.sending import deliveries_send
from apps.residents.models import Device, SavedItem
from apps.works.selectors import works_starting

# --------------------------------------------------------------------------------------------
# Creating notifications (outbox)
# --------------------------------------------------------------------------------------------


def _create(
    *,
    key: str,
    kind: Kind,
    item_type: str = "",
    item_id: int | None = None,
    urgency: int = Urgency.INFO,
    tag: str = "",
    texts_: dict[str, dict[str, str]],
    user: Any = None,
    exercise: bool = False,
) -> Notification | None:
    """The notification of ``key``, or None when it exists already (the trigger fired twice)."""
    if Notification.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification(
                key=key,
                kind=kind,
                item_type=item_type,
                item_id=item_id,
                urgency=urgency,
                tag=tag,
                texts=texts.drill_texts(texts_) if exercise else texts_,
                exercise=exercise,
                created_by=user if user is not None and user.is_authenticated else None,
            )
            with_user(notification, user).save(force_insert=True)
            return notification
    except IntegrityError:  # a concurrent trigger created it first
        return None


def _fill(notification: Notification, devices: Any, *, why: bool = True) -> int:
    """Insert the deliveries, count them, enqueue ``dispatch`` on commit.

    A drill's deliveries go to test devices only, whatever ``devices`` holds.
    """
    if notification.exercise:
        devices = audiences.drill_only(devices)
    inserted = audiences.insert_deliveries(notification.pk, devices, why=why)
    notification.targeted = inserted  # a fresh notification: every delivery is one just inserted
    notification.save(update_fields=["targeted"])
    pk = notification.pk
    # The publication's commit, stamped before ``dispatch`` is enqueued (the report's clock).
    transaction.on_commit(
        lambda: Notification.objects.filter(pk=pk).update(committed_at=timezone.now()),
        robust=True,
    )
    if inserted:
        # robust: the broker down must not turn a committed publication into a 500; the
        # deliveries are pending in the outbox and the sweeper enqueues them later.
        transaction.on_commit(
            lambda: enqueue.dispatch(notification_id=notification.pk), robust=True
        )
    logger.info(
        "notification %s (%s) targets %d devices", notification.pk, notification.key, inserted
    )
    return inserted


@transaction.atomic
def item_notify(
    *, item: PublishableContent, kind: Kind = Kind.NEW, changes: Sequence[str] = ()
) -> Notification | None:
    """Tell the item's audience that it was published (``new``) or changed (``update``).

    Called by the content signals inside the publishing transaction. Idempotent: a second call
    for the same publication (or the same saved change) adds nothing. An update goes to the
    current audience and to everyone who received an earlier push about the item, under the
    same tag, so it replaces that push on their phone.
    """
    item_type, tag = item.type_code, tag_for(item.type_code, item.pk)
    if kind == Kind.NEW:
        key = f"new:{item_type}:{item.pk}"
        body = texts.new_texts(item)
    elif kind == Kind.UPDATE:
        stamp = int(item.updated_at.timestamp() * 1000) if item.updated_at else uuid.uuid4().hex
        key = f"update:{item_type}:{item.pk}:{stamp}"
        body = texts.update_texts(item, changes)
    else:
        raise ValueError(f"item_notify sends new or update notifications, not {kind!r}")
    notification = _create(
        key=key,
        kind=kind,
        item_type=item_type,
        item_id=item.pk,
        urgency=item.urgency,
        tag=tag,
        texts_=body,
        exercise=item.exercise,
        # Whoever published or changed the item triggered the push (the services record the
        # staff user on the item for its audit trail; signals pass that same instance).
        user=getattr(item, "_history_user", None),
    )
    if notification is None:
        return None
    devices = audiences.audience(item)
    if kind == Kind.UPDATE:
        earlier = Delivery.objects.filter(
            notification__item_type=item_type,
            notification__item_id=item.pk,
            status=DeliveryStatus.SENT,
        ).values("device_id")
        devices = Device.objects.pushable().filter(
            Q(pk__in=devices.values("pk")) | Q(pk__in=earlier)
        )
    _fill(notification, audiences.with_why(devices, item))
    return notification


@transaction.atomic
def items_notify_new(*, items: Sequence[PublishableContent]) -> list[Notification]:
    """``item_notify(kind=NEW)`` of many items published together (a bulk import).

    The same rows as one call per item: the notifications are inserted in one statement
    (those whose key exists already are skipped), then each gets its audience as
    ``item_notify`` gives it; with no pushable device at all (one query), every audience is
    empty and the notifications stay at ``targeted = 0`` with nothing to dispatch.
    """
    wanted = {f"new:{item.type_code}:{item.pk}": item for item in items}
    if not wanted:
        return []
    taken = set(Notification.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    rows: list[Notification] = []
    for key, item in wanted.items():
        if key in taken:
            continue
        body = texts.new_texts(item)
        rows.append(
            Notification(
                key=key,
                kind=Kind.NEW,
                item_type=item.type_code,
                item_id=item.pk,
                urgency=item.urgency,
                tag=tag_for(item.type_code, item.pk),
                texts=texts.drill_texts(body) if item.exercise else body,
                exercise=item.exercise,
            )
        )
    rows_create(Notification, rows)
    if Device.objects.pushable().exists():
        for notification in rows:
            item = wanted[notification.key]
            _fill(notification, audiences.with_why(audiences.audience(item), item))
        return rows
    ids = [notification.pk for notification in rows]
    # The publication's commit, stamped as ``_fill`` stamps it (one statement for the batch).
    transaction.on_commit(
        lambda: Notification.objects.filter(pk__in=ids).update(committed_at=timezone.now()),
        robust=True,
    )
    logger.info("%d notifications target no device (none is pushable)", len(rows))
    return rows


def item_announced(*, item: PublishableContent) -> bool:
    return Notification.objects.filter(
        item_type=item.type_code, item_id=item.pk, kind=Kind.NEW
    ).exists()


@transaction.atomic
def event_reminder_notify(*, event: Any, start_at: datetime) -> Notification | None:
    """Remind the devices that saved ``event`` of its occurrence at ``start_at``."""
    notification = _create(
        key=f"reminder:events:{event.pk}:{start_at:%Y%m%dT%H%M}",
        kind=Kind.REMINDER,
        item_type="events",
        item_id=event.pk,
        urgency=Urgency.INFO,
        tag=tag_for("events", event.pk),
        texts_=texts.event_reminder_texts(event, start_at),
        exercise=event.exercise,
    )
    if notification is None:
        return None
    devices = audiences.saved_audience("events", event.pk).annotate(why=_json({"saved": True}))
    _fill(notification, devices)
    return notification


@transaction.atomic
def works_reminder_notify(*, works: Any, day: Any) -> Notification | None:
    """Tell residents whose home the works reach that they start tomorrow (``day``)."""
    notification = _create(
        key=f"reminder:works:{works.pk}:{day:%Y%m%d}",
        kind=Kind.REMINDER,
        item_type="works",
        item_id=works.pk,
        urgency=Urgency.INFO,
        tag=tag_for("works", works.pk),
        texts_=texts.works_reminder_texts(works),
        exercise=works.exercise,
    )
    if notification is None:
        return None
    devices = audiences.home_audience(works).annotate(why=_json({"home": True}))
    _fill(notification, devices)
    return notification


def _json(value: dict[str, Any]) -> Any:
    from django.db.models import Value
    from django.db.models.functions import JSONObject

    return JSONObject(**{k: Value(v) for k, v in value.items()})


def reminders_run(*, now: datetime | None = None) -> dict[str, int]:
    """Create the reminders that are due (beat, every 15 minutes); idempotent.

    Saved events: each occurrence starting within ``NOTIFY_EVENT_REMINDER_LEAD`` (3 h by
    default). Roadworks: from ``NOTIFY_WORKS_REMINDER_HOUR`` (18 h, city time) on the day
    before they start, for residents whose home they reach.
    """
    now = now or timezone.now()
    lead: timedelta = settings.NOTIFY_EVENT_REMINDER_LEAD
    created = {"events": 0, "works": 0}
    saved = SavedItem.objects.filter(item_type="events").values("item_id")
    for occurrence in occurrences_starting(event_ids=saved, after=now, until=now + lead, at=now):
        if event_reminder_notify(event=occurrence.event, start_at=occurrence.start_at):
            created["events"] += 1
    city = timing.zone(settings.TIME_ZONE)
    local = now.astimezone(city)
    if local.hour >= settings.NOTIFY_WORKS_REMINDER_HOUR:
        tomorrow = local.date() + timedelta(days=1)
        start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=city)
        for item in works_starting(start=start, end=start + timedelta(days=1), at=now):
            if works_reminder_notify(works=item, day=tomorrow):
                created["works"] += 1
    return created


@transaction.atomic
def device_test_push(*, device: Device, user: Any = None) -> Delivery:
    """Staff's "send a test push to device <id>": sent at once, whatever the quiet hours."""
    notification = _create(
        key=f"test:{device.pk}:{uuid.uuid4().hex}",
        kind=Kind.TEST,
        urgency=Urgency.INFO,
        tag="test",
        texts_=texts.test_texts(),
        user=user,
    )
    assert notification is not None  # a fresh uuid cannot exist
    delivery = Delivery.objects.create(notification=notification, device=device, why={})
    notification.targeted = 1
    notification.save(update_fields=["targeted"])
    transaction.on_commit(lambda: deliveries_send(ids=[delivery.pk]))
    return delivery
