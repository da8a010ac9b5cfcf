"""The push pipeline: create notifications with their audience, hand deliveries to the gateway,
apply the error policy, recover what got stuck (DESIGN §6).

**Outbox.** ``notify_item`` runs inside the publishing transaction (a ``content_published``
receiver): the notification row and every delivery row (``INSERT … SELECT`` of the audience)
commit with the publication or not at all, and ``dispatch`` is enqueued on commit. If that
enqueue is lost (broker down at that instant), the sweeper finds the pending rows.

**Sending.** ``dispatch`` cuts a notification's pending deliveries into batches of at most 500
(FCM's limit) and enqueues one ``send_batch`` task per batch on the ``push`` queue.
``send_deliveries`` claims its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (only rows still
pending and due), decides per row — hold for quiet hours, skip (token gone, item withdrawn),
cap into a digest, or send — and marks the senders ``sending`` before committing. It then sends
outside any transaction and records each outcome. A worker killed between the two leaves rows
in ``sending``: the sweeper puts them back after ``NOTIFY_STUCK_SENDING_S``; at most that batch
is pushed twice, with the same tag, so the phone shows it once.

**Error policy** (``apps.notifications.push``): dead tokens are deactivated (only when the token
is still the device's), bad payloads fail the row and keep the token, auth errors alarm and
retry later, quota and transient errors retry with ``Retry-After`` or backoff and jitter, until
``NOTIFY_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.models import PublishableContent, Status, Urgency
from apps.core.registry import content_models, model_for
from apps.notifications import audience as audiences
from apps.notifications import batching, texts, timing
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.push import (
    MAX_BATCH_SIZE,
    Outcome,
    OutgoingPush,
    PushResult,
    get_gateway,
    log_outcomes,
    retry_delay_s,
)
from apps.residents.models import Device

logger = logging.getLogger(__name__)

#: Kinds that count towards a device's daily cap and are themselves capped (non-alerts).
CAPPED_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: Kinds tied to an item that must still be public when the push goes out.
ITEM_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: How long FCM keeps a push for an offline phone: the more urgent, the sooner it is stale
#: (an alert read a day late misleads); reminders and tests are only useful shortly.
TTL_S = {Urgency.INFO: 24 * 3600, Urgency.IMPORTANT: 12 * 3600, Urgency.ALERT: 6 * 3600}
KIND_TTL_S = {Kind.REMINDER: 3 * 3600, Kind.TEST: 3600, Kind.DIGEST: 12 * 3600}
#: Auth errors (our credentials) are retried this much later, once someone fixed them.
AUTH_RETRY_S = 600.0


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def tag_for(item_type: str, item_id: int) -> str:
    """The collapse id of every push about one item: updates replace the earlier push."""
    return f"{item_type}-{item_id}"


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
) -> Notification | None:
    """The notification of ``key``, or None when it exists already (the trigger fired twice)."""
    if Notification.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                key=key,
                kind=kind,
                item_type=item_type,
                item_id=item_id,
                urgency=urgency,
                tag=tag,
                texts=texts_,
                created_by=user if user is not None and user.is_authenticated else None,
            )
    except IntegrityError:  # a concurrent trigger created it first
        return None


def _fill(notification: Notification, devices: Any, *, why: bool = True) -> int:
    """Insert the deliveries, count them, enqueue ``dispatch`` on commit."""
    inserted = audiences.insert_deliveries(notification.pk, devices, why=why)
    notification.targeted = notification.deliveries.count()
    notification.save(update_fields=["targeted"])
    if inserted:
        from apps.notifications.tasks import dispatch

        transaction.on_commit(lambda: dispatch.delay(notification.pk))
    logger.info(
        "notification %s (%s) targets %d devices", notification.pk, notification.key, inserted
    )
    return inserted


@transaction.atomic
def notify_item(
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
        raise ValueError(f"notify_item sends new or update notifications, not {kind!r}")
    notification = _create(
        key=key,
        kind=kind,
        item_type=item_type,
        item_id=item.pk,
        urgency=item.urgency,
        tag=tag,
        texts_=body,
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


def was_announced(item: PublishableContent) -> bool:
    return Notification.objects.filter(
        item_type=item.type_code, item_id=item.pk, kind=Kind.NEW
    ).exists()


@transaction.atomic
def notify_reminder_event(*, event: Any, start_at: datetime) -> Notification | None:
    """Remind the devices that saved ``event`` of its occurrence at ``start_at``."""
    notification = _create(
        key=f"reminder:events:{event.pk}:{start_at:%Y%m%dT%H%M}",
        kind=Kind.REMINDER,
        item_type="events",
        item_id=event.pk,
        urgency=Urgency.INFO,
        tag=tag_for("events", event.pk),
        texts_=texts.event_reminder_texts(event, start_at),
    )
    if notification is None:
        return None
    devices = audiences.saved_audience("events", event.pk).annotate(why=_json({"saved": True}))
    _fill(notification, devices)
    return notification


@transaction.atomic
def notify_reminder_works(*, works: Any, day: Any) -> Notification | None:
    """Tell residents whose home the works reach that they start tomorrow (``day``)."""
    notification = _create(
        key=f"reminder:works:{works.pk}:{day:%Y%m%d}",
        kind=Kind.REMINDER,
        item_type="works",
        item_id=works.pk,
        urgency=Urgency.INFO,
        tag=tag_for("works", works.pk),
        texts_=texts.works_reminder_texts(works),
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
    from apps.events.models import EventOccurrence
    from apps.residents.models import SavedItem

    now = now or timezone.now()
    lead: timedelta = _setting("NOTIFY_EVENT_REMINDER_LEAD", timedelta(hours=3))
    created = {"events": 0, "works": 0}
    saved = SavedItem.objects.filter(item_type="events").values("item_id")
    public_events = model_for("events").objects.public(now).filter(pk__in=saved)
    occurrences = (
        EventOccurrence.objects.filter(
            event__in=public_events, start_at__gt=now, start_at__lte=now + lead
        )
        .select_related("event", "event__venue")
        .order_by("start_at")
    )
    for occurrence in occurrences:
        if notify_reminder_event(event=occurrence.event, start_at=occurrence.start_at):
            created["events"] += 1
    city = timing.zone(settings.TIME_ZONE)
    local = now.astimezone(city)
    if local.hour >= _setting("NOTIFY_WORKS_REMINDER_HOUR", 18):
        tomorrow = local.date() + timedelta(days=1)
        start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=city)
        works = (
            model_for("works")
            .objects.public(now)
            .filter(
                geometry__isnull=False,
                start_at__gte=start,
                start_at__lt=start + timedelta(days=1),
            )
            .exclude(work_status="cancelled")
        )
        for item in works:
            if notify_reminder_works(works=item, day=tomorrow):
                created["works"] += 1
    return created


@transaction.atomic
def send_test_push(*, device: Device, user: Any = None) -> Delivery:
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
    transaction.on_commit(lambda: send_deliveries([delivery.pk]))
    return delivery


# --------------------------------------------------------------------------------------------
# Enqueueing
# --------------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int], size: int = MAX_BATCH_SIZE) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def enqueue(ids: Sequence[int], *, countdown: float = 0.0) -> int:
    """Enqueue ``send_batch`` for ``ids`` in batches of ≤ 500; returns the number of tasks.

    In the embedded mode (no broker, tasks run eagerly) a delayed retry is left to the
    sweeper instead of running at once.
    """
    from apps.notifications.tasks import send_batch

    if not ids:
        return 0
    if countdown > 0 and settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    tasks = 0
    for chunk in _chunks(sorted(ids)):
        if countdown > 0:
            send_batch.apply_async((chunk,), countdown=countdown)
        else:
            send_batch.delay(chunk)
        tasks += 1
    return tasks


def dispatch_notification(notification_id: int) -> int:
    """Enqueue the notification's due pending deliveries; returns the number of batches.

    The rows were inserted with ``enqueued_at`` set (``insert_deliveries``), a moment before
    this runs on commit: no update here (for a 100,000-device alert it wrote 100,000 rows
    again, ~4 s of PostgreSQL before the first batch could go).
    """
    now = timezone.now()
    rows = Delivery.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        notification_id=notification_id,
        status=DeliveryStatus.PENDING,
    )
    # ``enqueued_at`` was set when the rows were inserted: the sweeper counts from there.
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    return enqueue(ids)


# --------------------------------------------------------------------------------------------
# Sending one batch
# --------------------------------------------------------------------------------------------


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    held: int = 0
    skipped: int = 0
    capped: int = 0
    failed: int = 0
    retried: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def _public_items(rows: Sequence[Delivery], now: datetime) -> set[tuple[str, int]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        n = row.notification
        if n.kind in ITEM_KINDS and n.item_id is not None:
            wanted[n.item_type].add(n.item_id)
    public: set[tuple[str, int]] = set()
    models = content_models()
    for item_type, ids in wanted.items():
        queryset = models[item_type].objects.filter(pk__in=ids)
        # Reminders of works may go out the evening before; items still must be published.
        queryset = queryset.filter(status=Status.PUBLISHED).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        public.update((item_type, pk) for pk in queryset.values_list("pk", flat=True))
    return public


def _sent_today(rows: Sequence[Delivery], now: datetime) -> dict[int, int]:
    """Pushes of capped kinds each device of ``rows`` received since its local midnight."""
    devices = {row.device_id: row.device for row in rows}
    if not devices:
        return {}
    starts = {pk: timing.day_start(now, d.timezone) for pk, d in devices.items()}
    earliest = min(starts.values())
    counts: dict[int, int] = defaultdict(int)
    sent = Delivery.objects.filter(
        device_id__in=list(devices),
        sent_at__gte=earliest,
        status=DeliveryStatus.SENT,
        notification__kind__in=CAPPED_KINDS,
        notification__urgency__lt=Urgency.ALERT,
    ).values_list("device_id", "sent_at")
    for device_id, sent_at in sent:
        if sent_at is not None and sent_at >= starts[device_id]:
            counts[device_id] += 1
    return counts


def _push_for(row: Delivery) -> OutgoingPush:
    n, device = row.notification, row.device
    text = n.text_for(device.language)
    data = {"kind": n.kind, "notification_id": str(n.pk)}
    if n.item_type and n.item_id is not None:
        data.update(type=n.item_type, id=str(n.item_id))
    return OutgoingPush(
        token=device.push_token or "",
        title=text["title"],
        body=text["body"],
        urgency=Urgency(n.urgency),
        data=data,
        tag=n.tag,
        language=device.language,
        ttl_s=KIND_TTL_S.get(Kind(n.kind), TTL_S[Urgency(n.urgency)]),
    )


def _claim(ids: Sequence[int], now: datetime, report: BatchReport) -> list[Delivery]:
    """Lock the due pending rows of ``ids``, settle those that will not be sent now, mark the
    others ``sending``; returns those, to send after commit."""
    rows = batching.claim_rows(ids, now)
    report.claimed = len(rows)
    if not rows:
        return []
    public = _public_items(rows, now)
    skipped: dict[str, list[int]] = defaultdict(list)
    held: list[Delivery] = []
    candidates: list[Delivery] = []
    for row in rows:
        n, device = row.notification, row.device
        if not device.notifications_enabled:
            skipped[Reason.DISABLED].append(row.pk)
        elif not device.push_token or not device.push_token_active:
            skipped[Reason.NO_TOKEN].append(row.pk)
        elif n.kind in ITEM_KINDS and (n.item_type, n.item_id) not in public:
            skipped[Reason.EXPIRED].append(row.pk)
        else:
            until = None
            if n.kind != Kind.TEST and n.urgency < Urgency.ALERT:
                until = timing.quiet_until(
                    now, device.quiet_hours_start, device.quiet_hours_end, device.timezone
                )
            if until is not None:
                row.status, row.not_before = DeliveryStatus.HELD, until
                held.append(row)
            else:
                candidates.append(row)
    cappable = [
        r
        for r in candidates
        if r.notification.kind in CAPPED_KINDS and r.notification.urgency < Urgency.ALERT
    ]
    counts = _sent_today(cappable, now)
    capped: list[Delivery] = []
    sending: list[Delivery] = []
    for row in candidates:
        n = row.notification
        if n.kind in CAPPED_KINDS and n.urgency < Urgency.ALERT:
            if counts[row.device_id] >= row.device.max_pushes_per_day:
                capped.append(row)
                continue
            counts[row.device_id] += 1
        sending.append(row)
    for reason, pks in skipped.items():
        Delivery.objects.filter(pk__in=pks).update(
            status=DeliveryStatus.SKIPPED, reason=reason, updated_at=now
        )
    if held:
        Delivery.objects.bulk_update(held, ["status", "not_before"])
    if capped:
        Delivery.objects.filter(pk__in=[r.pk for r in capped]).update(
            status=DeliveryStatus.SKIPPED, reason=Reason.CAPPED, updated_at=now
        )
        _digest(capped, now)
    if sending:
        from django.db.models import F

        Delivery.objects.filter(batching.ids_in([r.pk for r in sending])).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
        for row in sending:
            row.attempts += 1
    report.held, report.capped = len(held), len(capped)
    report.skipped = sum(len(pks) for pks in skipped.values())
    return sending


def _digest(capped: Sequence[Delivery], now: datetime) -> None:
    """Fold each capped device's excess of the day into one digest push, held until
    ``timing.digest_at`` (one digest per device and send time)."""
    devices = {row.device_id: row.device for row in capped}
    starts = {pk: timing.day_start(now, d.timezone) for pk, d in devices.items()}
    titles: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        Delivery.objects.filter(
            device_id__in=list(devices),
            reason=Reason.CAPPED,
            updated_at__gte=min(starts.values()),
        )
        .select_related("notification")
        .order_by("pk")
    )
    for row in rows:
        if row.updated_at < starts[row.device_id]:
            continue
        for language in texts.LANGUAGES:
            titles[row.device_id][language].append(row.notification.text_for(language)["title"])
    for device_id, device in devices.items():
        at = timing.digest_at(now, device.timezone)
        key = f"digest:{device_id}:{at:%Y%m%dT%H%M}"
        body = texts.digest_texts(titles[device_id])
        notification, _created = Notification.objects.update_or_create(
            key=key,
            defaults={"texts": body},
            create_defaults={
                "kind": Kind.DIGEST,
                "urgency": Urgency.INFO,
                "tag": "digest",
                "texts": body,
                "targeted": 1,
            },
        )
        Delivery.objects.get_or_create(
            notification=notification,
            device_id=device_id,
            defaults={"status": DeliveryStatus.HELD, "not_before": at, "why": {}},
        )


def _record(
    sending: Sequence[Delivery], results: Sequence[PushResult], now: datetime, report: BatchReport
) -> None:
    """Write each outcome; deactivate dead tokens; schedule retries."""
    max_attempts = _setting("NOTIFY_MAX_ATTEMPTS", 8)
    sent: list[int] = []
    failed: dict[tuple[Reason, str], list[int]] = defaultdict(list)
    dead: list[tuple[int, str]] = []
    retry: list[tuple[Delivery, PushResult]] = []
    for row, result in zip(sending, results, strict=True):
        report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
        if result.outcome is Outcome.SENT:
            sent.append(row.pk)
        elif result.outcome is Outcome.DEAD_TOKEN:
            failed[(Reason.DEAD_TOKEN, result.error_code or "")].append(row.pk)
            dead.append((row.device_id, row.device.push_token or ""))
        elif result.outcome is Outcome.INVALID_PAYLOAD:
            failed[(Reason.INVALID_PAYLOAD, result.error_code or "")].append(row.pk)
        elif row.attempts >= max_attempts:
            reason = (
                Reason.AUTH_ERROR
                if result.outcome is Outcome.AUTH_ERROR
                else Reason.RETRIES_EXHAUSTED
            )
            failed[(reason, result.error_code or "")].append(row.pk)
        else:
            retry.append((row, result))
    with transaction.atomic():
        if sent:
            Delivery.objects.filter(batching.ids_in(sent)).update(
                status=DeliveryStatus.SENT, sent_at=now, updated_at=now, error_code=""
            )
        for (reason, code), pks in failed.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.FAILED, reason=reason, error_code=code[:40], updated_at=now
            )
        if dead:
            token_q = Q()
            for device_id, token in dead:
                token_q |= Q(pk=device_id, push_token=token)
            Device.objects.filter(token_q).update(push_token_active=False)
        delays: dict[tuple[int, str], list[int]] = defaultdict(list)
        for row, result in retry:
            if result.outcome is Outcome.AUTH_ERROR:
                delay = AUTH_RETRY_S
            else:
                delay = retry_delay_s(result, row.attempts - 1)
            # Whole seconds, never sooner than asked (round() could anticipate Retry-After).
            delays[(max(1, math.ceil(delay)), (result.error_code or "")[:40])].append(row.pk)
        for (delay, code), pks in delays.items():
            due = now + timedelta(seconds=delay)
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.PENDING,
                not_before=due,
                enqueued_at=due,
                error_code=code,
                updated_at=now,
            )
            transaction.on_commit(partial(enqueue, pks, countdown=float(delay)))
    report.sent = len(sent)
    report.failed = sum(len(pks) for pks in failed.values())
    report.retried = len(retry)


def send_deliveries(ids: Sequence[int]) -> BatchReport:
    """Claim, send and record at most 500 deliveries (the body of the ``send_batch`` task)."""
    if len(ids) > MAX_BATCH_SIZE:
        raise ValueError(f"at most {MAX_BATCH_SIZE} deliveries per batch")
    report = BatchReport()
    now = timezone.now()
    with transaction.atomic():
        sending = _claim(ids, now, report)
    if not sending:
        return report
    pushes = [_push_for(row) for row in sending]
    results = get_gateway().send(pushes)
    log_outcomes(logger, results)
    _record(sending, results, timezone.now(), report)
    return report


# --------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Put stuck rows back on the queue (beat, every minute).

    - held rows whose quiet hours or digest time have come: pending, enqueued;
    - pending rows that are due and were enqueued more than ``NOTIFY_STUCK_PENDING_S`` ago (or
      never: the on-commit enqueue was lost): enqueued again;
    - sending rows claimed more than ``NOTIFY_STUCK_SENDING_S`` ago (their worker died):
      pending again, enqueued.

    Also alarms (ERROR log) on scheduled notifying items whose publication time passed more
    than two minutes ago: the beat or the lifecycle task is not running.
    """
    now = now or timezone.now()
    stuck_pending = timedelta(seconds=_setting("NOTIFY_STUCK_PENDING_S", 300))
    stuck_sending = timedelta(seconds=_setting("NOTIFY_STUCK_SENDING_S", 120))
    with transaction.atomic():
        released = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.HELD, not_before__lte=now)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=released).update(
            status=DeliveryStatus.PENDING, not_before=None, enqueued_at=now, updated_at=now
        )
        recovered = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - stuck_sending)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=recovered).update(
            status=DeliveryStatus.PENDING, enqueued_at=now, updated_at=now
        )
        lost = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - stuck_pending))
            .filter(status=DeliveryStatus.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=lost).update(enqueued_at=now, updated_at=now)
        ids = released + recovered + lost
        transaction.on_commit(lambda: enqueue(ids))
    late = late_scheduled(now=now)
    if late:
        logger.error(
            "%d scheduled notifying item(s) are past their publication time and still "
            "unpublished: is celery beat running? %s",
            len(late),
            ", ".join(f"{t}/{pk}" for t, pk, _at in late[:10]),
        )
    if recovered or lost:
        logger.warning(
            "sweeper re-enqueued %d stuck sending and %d lost pending deliveries",
            len(recovered),
            len(lost),
        )
    return {
        "released": len(released),
        "recovered": len(recovered),
        "lost": len(lost),
        "late": len(late),
    }


def late_scheduled(
    *, now: datetime | None = None, grace_s: int = 120
) -> list[tuple[str, int, datetime]]:
    """Scheduled items with ``notify`` whose publication time passed more than ``grace_s`` ago."""
    now = now or timezone.now()
    late: list[tuple[str, int, datetime]] = []
    for type_code, model in content_models().items():
        rows = model.objects.filter(
            status=Status.SCHEDULED, notify=True, publish_at__lt=now - timedelta(seconds=grace_s)
        ).values_list("pk", "publish_at")
        late.extend((type_code, pk, at) for pk, at in rows if at is not None)
    return late
