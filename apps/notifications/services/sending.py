"""Enqueueing batches and sending one: claim, rules (quiet hours, cap and digest), gateway,
error policy."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.core.audit.actors import actor_fields
from apps.core.models import Status, Urgency
from apps.core.registry import content_models
from apps.notifications import batching, enqueue, policy, texts, timing
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.gateway.push import (
    MAX_BATCH_SIZE,
    Outcome,
    OutgoingPush,
    PushResult,
)
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.policy import CAPPED_KINDS, ITEM_KINDS, Verdict
from apps.notifications.services.common import logger
from apps.notifications.services.opens import ticket_new, tickets_store
from apps.residents.models import Device

# --------------------------------------------------------------------------------------------
# Enqueueing
# --------------------------------------------------------------------------------------------


def notification_dispatch(*, notification_id: int) -> int:
    """Enqueue the notification's due pending deliveries; returns the number of batches.

    The rows were inserted with ``enqueued_at`` set (``insert_deliveries``), a moment before
    this runs on commit: no update here (for a large alert that rewrote every row, seconds of
    PostgreSQL before the first batch could go: bench/README.md).
    """
    now = timezone.now()
    rows = Delivery.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        notification_id=notification_id,
        status=DeliveryStatus.PENDING,
    )
    # ``enqueued_at`` was set when the rows were inserted: the sweeper counts from there.
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    return enqueue.send_batches(ids=ids)


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


def _used(rows: Sequence[Delivery], now: datetime) -> dict[int, policy.Used]:
    """What each device of ``rows`` already received of capped kinds (non-alerts), in its own
    calendar: since its local midnight (all; important ones) and since its local Monday
    (information ones). One query, from the earliest start."""
    devices = {row.device_id: row.device for row in rows}
    if not devices:
        return {}
    days = {pk: timing.day_start(now, d.timezone) for pk, d in devices.items()}
    weeks = {pk: timing.week_start(now, d.timezone) for pk, d in devices.items()}
    earliest = min(min(days.values()), min(weeks.values()))
    used: dict[int, policy.Used] = defaultdict(policy.Used)
    sent = Delivery.objects.filter(
        device_id__in=list(devices),
        sent_at__gte=earliest,
        status=DeliveryStatus.SENT,
        notification__kind__in=CAPPED_KINDS,
        notification__urgency__lt=Urgency.ALERT,
    ).values_list("device_id", "sent_at", "notification__urgency")
    for device_id, sent_at, urgency in sent:
        if sent_at is None:
            continue
        u = used[device_id]
        if sent_at >= days[device_id]:
            u.today += 1
            if urgency >= Urgency.IMPORTANT:
                u.important_today += 1
        if urgency < Urgency.IMPORTANT and sent_at >= weeks[device_id]:
            u.info_week += 1
    return used


def _push_for(row: Delivery) -> OutgoingPush:
    n, device = row.notification, row.device
    text = n.text_for(device.language)
    data = {"kind": n.kind, "notification_id": str(n.pk)}
    if n.item_type and n.item_id is not None:
        # The single-use ticket the app reports an open with (``services.opens``).
        data.update(type=n.item_type, id=str(n.item_id), open_ticket=ticket_new())
    return OutgoingPush(
        token=device.push_token or "",
        title=text["title"],
        body=text["body"],
        urgency=Urgency(n.urgency),
        data=data,
        tag=n.tag,
        language=device.language,
        ttl_s=policy.ttl_s(n.kind, n.urgency),
    )


def _candidate(row: Delivery, public: set[tuple[str, int]]) -> policy.Candidate:
    n, device = row.notification, row.device
    return policy.Candidate(
        kind=n.kind,
        urgency=n.urgency,
        attempts=row.attempts,
        notifications_enabled=device.notifications_enabled,
        live_token=bool(device.push_token) and device.push_token_active,
        item_public=n.item_id is not None and (n.item_type, n.item_id) in public,
        quiet_start=device.quiet_hours_start,
        quiet_end=device.quiet_hours_end,
        timezone=device.timezone,
    )


def _claim(ids: Sequence[int], now: datetime, report: BatchReport) -> list[Delivery]:
    """Lock the due pending rows of ``ids``, settle those that will not be sent now (the
    decisions are ``policy``'s), mark the others ``sending``; returns those, to send after
    commit."""
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
        before = policy.before_send(
            _candidate(row, public), now=now, max_attempts=settings.NOTIFY_MAX_ATTEMPTS
        )
        if before.verdict is Verdict.FAIL:
            exhausted.append(row.pk)
        elif before.verdict is Verdict.SKIP:
            skipped[str(before.reason)].append(row.pk)
        elif before.verdict is Verdict.HOLD:
            row.status, row.not_before = DeliveryStatus.HELD, before.until
            held.append(row)
        else:
            candidates.append(row)
    entries = [
        policy.CapEntry(
            device_id=row.device_id,
            limit=row.device.max_pushes_per_day,
            capped_kind=policy.is_capped(row.notification.kind, row.notification.urgency),
            urgency=row.notification.urgency,
            info_per_week=row.device.info_per_week,
            important_per_day=row.device.important_per_day,
        )
        for row in candidates
    ]
    used = _used([r for r, e in zip(candidates, entries, strict=True) if e.capped_kind], now)
    verdicts = policy.budget(entries, used=used)
    capped = [row for row, v in zip(candidates, verdicts, strict=True) if v is Reason.CAPPED]
    budgeted = [row for row, v in zip(candidates, verdicts, strict=True) if v is Reason.BUDGET]
    sending = [row for row, v in zip(candidates, verdicts, strict=True) if v is None]
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
    for reason, over in ((Reason.CAPPED, capped), (Reason.BUDGET, budgeted)):
        if over:
            Delivery.objects.filter(pk__in=[r.pk for r in over]).update(
                status=DeliveryStatus.SKIPPED, reason=reason, updated_at=now
            )
    if capped or budgeted:
        _digest([*capped, *budgeted], now)
    if sending:
        Delivery.objects.filter(batching.ids_in([r.pk for r in sending])).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
        for row in sending:
            row.attempts += 1
    report.held, report.capped = len(held), len(capped) + len(budgeted)
    report.skipped = sum(len(pks) for pks in skipped.values())
    report.failed = len(exhausted)
    return sending


def _digest_plan(device: Device, now: datetime) -> tuple[datetime, datetime, datetime]:
    """Where a device's held-back pushes go: ``(send at, daily window start, budget window
    start)``. Daily digest: everything held back since local midnight; weekly digest (the
    resident chose a day): the budget's excess since local Monday goes there instead."""
    day = timing.day_start(now, device.timezone)
    if device.weekly_digest_day is None:
        return timing.digest_at(now, device.timezone), day, day
    at = timing.weekly_digest_at(
        now, device.timezone, device.weekly_digest_day, device.weekly_digest_time
    )
    return at, day, timing.week_start(now, device.timezone)


def _digest(held_back: Sequence[Delivery], now: datetime) -> None:
    """Fold each device's pushes held back by its limits into one digest push, held until its
    send time (one digest per device and send time): the day's ``capped`` ones into the daily
    digest; the ``budget`` ones into the daily digest too, or into the weekly one on the day
    the resident chose (docs/notifications.md, "Budget")."""
    devices = {row.device_id: row.device for row in held_back}
    plans = {pk: _digest_plan(d, now) for pk, d in devices.items()}
    earliest = min(min(day, week) for _at, day, week in plans.values())
    titles: dict[tuple[int, datetime], dict[str, list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    rows = (
        Delivery.objects.filter(
            device_id__in=list(devices),
            reason__in=[Reason.CAPPED, Reason.BUDGET],
            updated_at__gte=earliest,
        )
        .select_related("notification")
        .order_by("pk")
    )
    weekly: set[tuple[int, datetime]] = set()
    for row in rows:
        device = devices[row.device_id]
        weekly_at, day, week = plans[row.device_id]
        if row.reason == Reason.BUDGET and device.weekly_digest_day is not None:
            if row.updated_at < week:
                continue
            at = weekly_at
            weekly.add((row.device_id, at))
        else:
            if row.updated_at < day:
                continue
            at = timing.digest_at(now, device.timezone)
        for language in texts.LANGUAGES:
            titles[(row.device_id, at)][language].append(
                row.notification.text_for(language)["title"]
            )
    for (device_id, at), by_language in titles.items():
        key = f"digest:{device_id}:{at:%Y%m%dT%H%M}"
        body = texts.digest_texts(by_language, weekly=(device_id, at) in weekly)
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
    sending: Sequence[Delivery],
    pushes: Sequence[OutgoingPush],
    results: Sequence[PushResult],
    now: datetime,
    report: BatchReport,
) -> None:
    """Write each outcome as ``policy.after_result`` decides; store the open tickets of the
    pushes sent and count them on their notification; deactivate dead tokens; schedule
    retries."""
    max_attempts = settings.NOTIFY_MAX_ATTEMPTS
    sent: list[int] = []
    failed: dict[tuple[str, str], list[int]] = defaultdict(list)
    dead: list[tuple[int, str]] = []
    delays: dict[tuple[int, str], list[int]] = defaultdict(list)
    tickets: list[tuple[int, str]] = []
    sending_sent: list[Delivery] = []
    for row, push, result in zip(sending, pushes, results, strict=True):
        report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
        after = policy.after_result(result, attempts=row.attempts, max_attempts=max_attempts)
        if after.verdict is Verdict.SENT:
            sent.append(row.pk)
            sending_sent.append(row)
            if "open_ticket" in push.data:
                tickets.append((row.notification_id, push.data["open_ticket"]))
        elif after.verdict is Verdict.FAIL:
            failed[(str(after.reason), after.error_code)].append(row.pk)
            if after.deactivate_token:
                dead.append((row.device_id, row.device.push_token or ""))
        else:
            delays[(after.delay_s, after.error_code)].append(row.pk)
    with transaction.atomic():
        if sent:
            Delivery.objects.filter(batching.ids_in(sent)).update(
                status=DeliveryStatus.SENT, sent_at=now, updated_at=now, error_code=""
            )
            tickets_store(tickets)
            for notification_id, count in Counter(r.notification_id for r in sending_sent).items():
                Notification.objects.filter(pk=notification_id).update(
                    reached=F("reached") + count, first_sent_at=Coalesce("first_sent_at", now)
                )
            _first_sends_record({r.notification_id for r in sending_sent}, now)
        for (reason, code), pks in failed.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.FAILED, reason=reason, error_code=code, updated_at=now
            )
        if dead:
            token_q = Q()
            for device_id, token in dead:
                token_q |= Q(pk=device_id, push_token=token)
            Device.objects.filter(token_q).update(push_token_active=False)
        for (delay, code), pks in delays.items():
            due = now + timedelta(seconds=delay)
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.PENDING,
                not_before=due,
                enqueued_at=due,
                error_code=code,
                updated_at=now,
            )
            transaction.on_commit(partial(enqueue.send_batches, ids=pks, countdown=float(delay)))
    report.sent = len(sent)
    report.failed += sum(len(pks) for pks in failed.values())
    report.retried = sum(len(pks) for pks in delays.values())


def _first_sends_record(notification_ids: set[int], now: datetime) -> None:
    """Add a "sent" row to the audit trail of the notifications whose first push went out now
    (when; the devices reached by this first batch; the whole count is on the row itself)."""
    first = list(Notification.objects.filter(pk__in=notification_ids, first_sent_at=now))
    if first:
        with translation.override("fr"):
            reason = gettext("premier envoi")
        Notification.history.bulk_history_create(
            first,
            update=True,
            default_date=now,
            default_change_reason=reason,
            custom_historical_attrs=actor_fields(None, None),
        )


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
        # Alarmed once with the batch's outcomes (``_log_batch``), which carry this detail.
        outcome, code, detail = Outcome.AUTH_ERROR, "CONFIGURATION", str(error)[:500]
    except Exception as error:
        outcome, code, detail = Outcome.TRANSIENT, type(error).__name__[:40], str(error)[:500]
        logger.exception("push gateway raised, %d push(es) not sent", len(pushes))
    return [PushResult(p.token, outcome, error_code=code, detail=detail) for p in pushes]


def _log_batch(results: Sequence[PushResult]) -> None:
    """The batch's one log: an INFO line of its outcomes, or one ERROR (to alarm on) when
    authentication failed."""
    outcomes = Counter(result.outcome for result in results)
    summary = ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items()))
    if outcomes[Outcome.AUTH_ERROR]:
        first = next(r for r in results if r.outcome is Outcome.AUTH_ERROR)
        logger.error(
            "push authentication failed for %d push(es): %s %s (batch: %s)",
            outcomes[Outcome.AUTH_ERROR],
            first.error_code,
            first.detail,
            summary,
        )
    else:
        logger.info("push batch: %s", summary)


def deliveries_send(*, ids: Sequence[int]) -> BatchReport:
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
    _log_batch(results)
    _record(sending, pushes, results, timezone.now(), report)
    return report
