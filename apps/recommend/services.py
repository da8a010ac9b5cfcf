"""Writes on the interaction log: logging batches, moving, erasing, the retention purge, the
popularity aggregate the feed reads, and the online evaluation's counters and rollbacks."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.recommend.engine.features import POPULARITY_WINDOW_S
from apps.recommend.engine.interleaving import (
    REFERENCE,
    SERVED,
    WORSE,
    Comparison,
    request_outcome,
)
from apps.recommend.engine.ranking import ModelRanker
from apps.recommend.models import Interaction, ItemPopularity, OnlineComparison, RankerRollback
from apps.recommend.online.interleaving import RankerMark
from apps.recommend.online.item_index import generation_bump
from apps.recommend.online.resident_cache import resident_inputs_forget
from apps.recommend.selectors import item_popularity, online_totals
from apps.recommend.store import ModelStore
from apps.residents.models import Device

logger = logging.getLogger(__name__)


def interactions_log(*, device: Device, events: Iterable[dict[str, Any]]) -> bool:
    """Store validated events of ``device``; return whether they were stored.

    Nothing is stored when the device has not accepted personalization (GDPR: consent is the
    legal basis of the log). Events whose ``event_id`` the device already sent are skipped
    (unique index + ``ignore_conflicts``), so a retried batch is harmless. ``events`` carry
    API codes: ``type``, ``id``, ``action``, ``context``, ``position``, ``at``, ``event_id``, and
    on an interleaved feed's item ``ranker`` (a ``RankerMark``: the online evaluation's marks).
    """
    if not device.personalization_consent:
        return False
    rows = [
        Interaction(
            device=device,
            event_id=event["event_id"],
            item_type=ItemType.from_code(event["type"]),
            item_id=event["id"],
            action=Action.from_code(event["action"]),
            context=Context.from_code(event["context"]),
            position=event.get("position"),
            at=event["at"],
            **_interleave_marks(event.get("ranker")),
        )
        for event in events
    ]
    Interaction.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    resident_inputs_forget(device.pk)  # the feed's cached history of this device
    return True


def _interleave_marks(mark: RankerMark | None) -> dict[str, Any]:
    if mark is None:
        return {}
    return {
        "interleave_request": mark.request,
        "interleave_team": mark.team,
        "interleave_pair": mark.pair,
    }


def interactions_erase(*, device: Device) -> int:
    """Delete the whole log of ``device`` (consent withdrawn); return how many rows."""
    deleted, _counts = Interaction.objects.filter(device=device).delete()
    resident_inputs_forget(device.pk)
    return deleted


def interactions_move(*, old_device: Device, new_device: Device) -> int:
    """Give ``old_device``'s log to ``new_device`` (a transfer); return how many rows."""
    resident_inputs_forget(old_device.pk, new_device.pk)
    return Interaction.objects.filter(device=old_device).update(device=new_device)


def interactions_purge(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete interactions older than ``RETENTION_DAYS``, in batches; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(
                Interaction.objects.filter(at__lt=cutoff)
                .order_by("at")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return purged
            Interaction.objects.filter(pk__in=ids).delete()
        purged += len(ids)


#: The popularity window the ranker was trained with.
POPULARITY_WINDOW = timedelta(seconds=POPULARITY_WINDOW_S)


@transaction.atomic
def item_popularity_refresh(*, now: datetime | None = None) -> int:
    """Rebuild ``ItemPopularity`` from the positives of the last 7 days; return the row count.

    One aggregate over the ``at`` index, then the table is replaced in one transaction:
    readers see the previous table until the commit.
    """
    now = now or timezone.now()
    counts = item_popularity(since=now - POPULARITY_WINDOW, until=now)
    if connection.vendor == "postgresql":
        # Two refreshes at once (a slow one overlapping the next tick) would both delete, then
        # both insert the same keys: the second waits here for the first to commit. Readers are
        # not blocked (EXCLUSIVE mode allows plain SELECTs).
        with connection.cursor() as cursor:
            table = ItemPopularity._meta.db_table
            cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
    ItemPopularity.objects.all().delete()
    ItemPopularity.objects.bulk_create(
        [
            ItemPopularity(
                item_type=ItemType.from_code(type_code),
                item_id=item_id,
                positives=n,
                refreshed_at=now,
            )
            for (type_code, item_id), n in counts.items()
        ],
        batch_size=2000,
    )
    generation_bump()  # the feed's index reads popularity and the trending lists
    return len(counts)


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, dt_time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), dt_time.min, tzinfo=tz)
    return start, end


def online_comparisons_aggregate(*, day: date, now: datetime | None = None) -> int:
    """Count ``day``'s (local date) interleaved feed requests into ``OnlineComparison``.

    From the log's interleaving marks (consenting devices only, since only they are logged):
    per request, the distinct items opened that each team placed; the served ranker wins the
    request when its items got more opens, loses when fewer, ties when as many (at least one
    each); a request with no open counts as an impression only. Idempotent: the day's counters
    of each pair found are replaced. Returns the number of requests counted.
    """
    start, end = _local_day_bounds(day)
    rows = (
        Interaction.objects.filter(interleave_request__isnull=False, at__gte=start, at__lt=end)
        .values_list(
            "interleave_pair",
            "interleave_request",
            "interleave_team",
            "action",
            "item_type",
            "item_id",
        )
        .order_by()
    )
    opened: dict[tuple[str | None, str | None], dict[int, set[tuple[int, int]]]] = {}
    for pair, request, team, action, item_type, item_id in rows.iterator(chunk_size=5000):
        teams = opened.setdefault((pair, request), {SERVED: set(), REFERENCE: set()})
        if action == Action.OPEN and team in teams:
            teams[team].add((item_type, item_id))
    counts: dict[str, list[int]] = {}
    for (pair, _request), teams in opened.items():
        tally = counts.setdefault(pair or "", [0, 0, 0, 0])  # wins, losses, ties, impressions
        tally[3] += 1
        n_served, n_reference = len(teams[SERVED]), len(teams[REFERENCE])
        if n_served or n_reference:
            tally[{1: 0, -1: 1, 0: 2}[request_outcome(n_served, n_reference)]] += 1
    counted_at = now or timezone.now()
    with transaction.atomic():
        for pair, (wins, losses, ties, impressions) in counts.items():
            ranker, _sep, reference = pair.partition("|")
            OnlineComparison.objects.update_or_create(
                day=day,
                ranker=ranker,
                reference=reference,
                defaults={
                    "wins": wins,
                    "losses": losses,
                    "ties": ties,
                    "impressions": impressions,
                    "counted_at": counted_at,
                },
            )
    return len(opened)


def interleave_marks_clear(*, before: datetime) -> int:
    """Clear the interleaving marks of interactions before ``before`` (their days are
    counted for good): the log keeps no more than it did before online evaluation."""
    return Interaction.objects.filter(interleave_request__isnull=False, at__lt=before).update(
        interleave_request=None, interleave_team=None, interleave_pair=None
    )


def online_evaluation_daily(*, today: date | None = None, late_days: int = 1) -> int:
    """The nightly online evaluation: count yesterday and the ``late_days`` before it again
    (batches an app sends late), clear the marks of the days before, check for a rollback.
    Returns the number of requests counted."""
    today = today or timezone.localdate()
    days = [today - timedelta(days=k) for k in range(1, late_days + 2)]
    counted = sum(online_comparisons_aggregate(day=day) for day in days)
    interleave_marks_clear(before=_local_day_bounds(days[-1])[0])
    store = ModelStore()
    online_result_record(store=store)
    ranker_rollback_check(store=store)
    return counted


def online_result_record(*, store: ModelStore) -> bool:
    """Record the served model's online result (every day it was served, against its latest
    reference) in its sidecar, where the public ranking notice reads it
    (``apps.recommend.notice.online_result``). Returns whether one was recorded."""
    served = store.load()
    if not isinstance(served, ModelRanker):
        return False
    results = online_totals(ranker=served.version)
    if not results:
        return False
    result = results[0]
    c = result.comparison
    return store.record_online(
        served.version,
        {
            "method": "interleaving",
            "reference": result.reference,
            "first_day": result.first_day.isoformat(),
            "last_day": result.last_day.isoformat(),
            "requests": result.impressions,
            "wins": c.wins,
            "losses": c.losses,
            "ties": c.ties,
            "win_rate": round(c.win_rate, 4),
            "ci_low": round(c.ci_low, 4),
            "ci_high": round(c.ci_high, 4),
            "confidence": round(1 - c.alpha, 4),
            "p_value": float(f"{c.p_value:.3g}"),
            "verdict": c.verdict,
            "measured_at": timezone.now().isoformat(),
        },
    )


def ranker_rollback_check(*, store: ModelStore | None = None) -> RankerRollback | None:
    """Roll back the served model when it did significantly worse than its reference online.

    The served model's counters of every day since it was first served, per reference
    (``selectors.online_totals``): when the sign test says ``worse`` (``p < ONLINE_EVAL_ALPHA``
    over at least ``ONLINE_EVAL_MIN_COMPARISONS`` decided requests), the store stops serving it
    and serves its predecessor, or stage 1 (``ModelStore.rollback``); the rollback is recorded
    (``RankerRollback``, shown in the staff admin), logged, and e-mailed to the superusers.
    """
    store = store or ModelStore()
    served = store.load()
    if not isinstance(served, ModelRanker):
        return None
    worse = [
        result
        for result in online_totals(ranker=served.version)
        if result.comparison.verdict == WORSE
    ]
    if not worse:
        return None
    result = worse[0]
    c = result.comparison
    reason = (
        f"significantly worse online than {result.reference}: {c.wins} wins, {c.losses} "
        f"losses, {c.ties} ties, p = {c.p_value:.2g}"
    )
    details = {
        "reference": result.reference,
        "wins": c.wins,
        "losses": c.losses,
        "ties": c.ties,
        "p_value": c.p_value,
        "at": timezone.now().isoformat(),
    }
    restored = store.rollback(served.version, reason=reason, details=details) or "stage1"
    rollback = RankerRollback.objects.create(
        at=timezone.now(),
        version=served.version,
        reference=result.reference,
        restored=restored,
        wins=c.wins,
        losses=c.losses,
        ties=c.ties,
        p_value=c.p_value,
        reason=reason,
    )
    logger.error("recommender model %s rolled back to %s: %s", served.version, restored, reason)
    _staff_tell(rollback, c)
    return rollback


def _staff_tell(rollback: RankerRollback, c: Comparison) -> None:
    """E-mail the active superusers (Django mail) about ``rollback``."""
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_superuser=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Fil : le modèle %(version)s a été retiré") % {"version": rollback.version}
        body = _(
            "L'évaluation en ligne du fil (entrelacement) montre que le modèle %(version)s fait "
            "nettement moins bien que « %(reference)s » : %(wins)d victoires, %(losses)d "
            "défaites, %(ties)d égalités (part de victoires %(rate).1f %%, intervalle de "
            "confiance %(low).1f à %(high).1f %%, p = %(p).2g).\n\n"
            "Il n'est plus servi ; le fil est désormais classé par « %(restored)s ». Le détail "
            "est dans l'administration, rubrique « Évaluation en ligne »."
        ) % {
            "version": rollback.version,
            "reference": rollback.reference,
            "wins": c.wins,
            "losses": c.losses,
            "ties": c.ties,
            "rate": 100 * c.win_rate,
            "low": 100 * c.ci_low,
            "high": 100 * c.ci_high,
            "p": c.p_value,
            "restored": rollback.restored,
        }
    send_mail(str(subject), str(body), None, recipients, fail_silently=True)
