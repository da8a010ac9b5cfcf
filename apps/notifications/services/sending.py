"""Enqueueing batches and sending one: claim, rules (quiet hours, cap and digest), gateway,
error policy."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.models import Status, Urgency
from apps.core.registry import content_models
from apps.notifications import batching, enqueue, texts, timing
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.gateway.push import (
    MAX_BATCH_SIZE,
    Outcome,
    OutgoingPush,
    PushResult,
    log_outcomes,
    retry_delay_s,
)
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.services.common import (
    AUTH_CODE_PREFIX,
    AUTH_RETRY_S,
    CAPPED_KINDS,
    ITEM_KINDS,
    KIND_TTL_S,
    TTL_S,
    logger,
)
from apps.residents.models import Device

# --------------------------------------------------------------------------------------------
# Enqueueing
# --------------------------------------------------------------------------------------------


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
    return enqueue.deliveries_send(ids=ids)


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
    exhausted: list[int] = []
    for row in rows:
        n, device = row.notification, row.device
        if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            # Taken back by the sweeper after its last attempt (a worker died, or the task
            # raised): never sent again.
            exhausted.append(row.pk)
        elif not device.notifications_enabled:
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
    if exhausted:
        Delivery.objects.filter(pk__in=exhausted).update(
            status=DeliveryStatus.FAILED, reason=Reason.RETRIES_EXHAUSTED, updated_at=now
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
    report.failed = len(exhausted)
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
    max_attempts = settings.NOTIFY_MAX_ATTEMPTS
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
            code = result.error_code or ""
            if result.outcome is Outcome.AUTH_ERROR:
                delay = AUTH_RETRY_S
                code = AUTH_CODE_PREFIX + code  # the admin's alarm finds waiting rows by it
            else:
                delay = retry_delay_s(result, row.attempts - 1)
            # Whole seconds, never sooner than asked (round() could anticipate Retry-After).
            delays[(max(1, math.ceil(delay)), code[:40])].append(row.pk)
        for (delay, code), pks in delays.items():
            due = now + timedelta(seconds=delay)
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.PENDING,
                not_before=due,
                enqueued_at=due,
                error_code=code,
                updated_at=now,
            )
            transaction.on_commit(partial(enqueue.deliveries_send, ids=pks, countdown=float(delay)))
    report.sent = len(sent)
    report.failed += sum(len(pks) for pks in failed.values())
    report.retried = len(retry)


def _send(pushes: Sequence[OutgoingPush]) -> list[PushResult]:
    """The gateway's results, or one failed result per push when the gateway raises.

    The rows are already ``sending`` with their attempt counted: an exception here would leave
    them to the sweeper, which would put them back forever. A configuration error (credentials
    file missing, unreadable or garbage) is an auth error: alarm, retry much later, fail at
    ``NOTIFY_MAX_ATTEMPTS``; anything else is transient (backoff, then fail).
    """
    try:
        return get_gateway().send(pushes)
    except ImproperlyConfigured as error:
        outcome, code, detail = Outcome.AUTH_ERROR, "CONFIGURATION", str(error)[:500]
        logger.error("push gateway misconfigured, %d push(es) not sent: %s", len(pushes), error)
    except Exception as error:
        outcome, code, detail = Outcome.TRANSIENT, type(error).__name__[:40], str(error)[:500]
        logger.exception("push gateway raised, %d push(es) not sent", len(pushes))
    return [PushResult(p.token, outcome, error_code=code, detail=detail) for p in pushes]


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
    results = _send(pushes)
    log_outcomes(logger, results)
    _record(sending, results, timezone.now(), report)
    return report
