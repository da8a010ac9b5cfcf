"""Export of our events to the city's OpenAgenda agenda: an outbox, sent with retries.

Every write to an event (``content_saved``, ``content_removed``) of an organisation whose
agenda has ``export_enabled`` records, in the same transaction, what the agenda should now
hold: the event (``set``, when it is public) or nothing (``delete``, when it left the public
set or was deleted). After commit a task sends it with the "by external id" operations
(``setByExtId``/``deleteByExtId``, our event id as the external id under ``EXT_KEY``), which
are idempotent, so a retry never duplicates. Failures are retried with a growing delay
(``RETRY_DELAYS``); an answer that retrying cannot change (``400``, ``401``, ``403``, ``422``, a
body we could not build) fails at once. The error, in French, is on the outbox row and in a
warning above the admin index naming the event. Events that came from an OpenAgenda import are
never sent back.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from apps.core.models import Status
from apps.events.models import Event
from apps.interop.openagenda.client import OpenAgendaClient, OpenAgendaError
from apps.interop.openagenda.mapping import ACCESSIBILITY, ATTENDANCE, MAX_TIMINGS, STATUS
from apps.interop.openagenda.models import AgendaExport, AgendaItem, AgendaLocation, AgendaSource
from apps.interop.standards import InvalidDocumentError

logger = logging.getLogger(__name__)
#: The external id key of our events on OpenAgenda.
EXT_KEY = "quartier"
#: Delay before each retry (then the row fails for good).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
SEND_TASK = "apps.interop.tasks.agenda_export_send"
#: Answers a retry cannot change.
FINAL_STATUSES = {400, 401, 403, 422}
#: Set while an agenda is imported: the events it writes are OpenAgenda's, never sent back.
importing: ContextVar[bool] = ContextVar("openagenda_importing", default=False)
_STATUS_CODE = {ours: code for code, ours in STATUS.items()}
_ATTENDANCE_CODE = {ours: code for code, ours in ATTENDANCE.items()}


class ExportBodyError(ValueError):
    """The event cannot be expressed as an OpenAgenda event (a French message for staff)."""


def _localized(event: Event, field: str, size: int | None = None) -> dict[str, str]:
    values = {}
    for lang in ("fr", "en"):
        text = (getattr(event, f"{field}_{lang}", "") or "").strip()
        if text:
            values[lang] = text[:size] if size else text
    return values


def event_body(*, event: Event, source: AgendaSource) -> dict[str, Any]:
    """The ``EventInput`` of one of our events for ``source``'s agenda."""
    timings = [
        {"begin": o.start_at.isoformat(), "end": o.end_at.isoformat()}
        for o in event.occurrences.order_by("start_at")[: MAX_TIMINGS + 1]
    ]
    if len(timings) > MAX_TIMINGS:
        raise ExportBodyError(f"Plus de {MAX_TIMINGS} dates : OpenAgenda n'en accepte pas plus.")
    body: dict[str, Any] = {
        "title": _localized(event, "title"),
        "description": _localized(event, "summary") or _localized(event, "title"),
        "longDescription": _localized(event, "body"),
        "conditions": _localized(event, "price_info"),
        "timings": timings,
        "attendanceMode": _ATTENDANCE_CODE[event.attendance_mode],
        "accessibility": {
            code: ours in event.accessibility for code, ours in ACCESSIBILITY.items()
        },
    }
    if event.online_url:
        body["onlineAccessLink"] = event.online_url
    if event.age_min is not None or event.age_max is not None:
        body["age"] = {"min": event.age_min, "max": event.age_max}
    if event.registration_url:
        body["registration"] = [{"type": "link", "value": event.registration_url}]
    if event.event_status != "scheduled":
        # OpenAgenda accepts ``status`` only on agendas that turned it on; a plain scheduled
        # event is sent without it, so that such agendas still take our events.
        body["status"] = _STATUS_CODE[event.event_status]
    location_uid = None
    if event.venue_id is not None:
        location_uid = (
            AgendaLocation.objects.filter(source=source, venue_id=event.venue_id)
            .values_list("location_uid", flat=True)
            .first()
        )
    location_uid = location_uid or source.export_location_uid
    if location_uid is not None:
        body["location"] = {"uid": location_uid}
    elif event.attendance_mode != "online":
        venue = event.venue.name if event.venue else "sans lieu"
        raise ExportBodyError(
            f"Lieu inconnu de l'agenda OpenAgenda (« {venue} ») : importez-le depuis "
            "l'agenda ou indiquez un lieu par défaut sur l'agenda."
        )
    return body


def exports_record(*, event_id: int, removed: bool = False) -> list[AgendaExport]:
    """Record what each exporting agenda of the event's organisation should now hold.

    Called inside the write's transaction (the receivers of ``apps.core.signals``); sends
    nothing itself: ``transaction.on_commit`` enqueues the sending task.
    """
    if importing.get():
        return []
    sources = list(AgendaSource.objects.filter(export_enabled=True))
    if not sources:
        return []  # the usual case: one query per event write
    event = Event.objects.filter(pk=event_id).first()
    if event is not None:
        if AgendaItem.objects.filter(event_id=event_id).exists():
            return []  # came from OpenAgenda: never sent back
        sources = [s for s in sources if s.organization_id == event.organization_id]
    public = event is not None and not removed and event.status == Status.PUBLISHED
    rows = []
    for source in sources:
        existing = AgendaExport.objects.filter(source=source, ext_id=str(event_id)).first()
        if not public and existing is None:
            continue  # never sent: nothing to withdraw
        row = existing or AgendaExport(source=source, ext_id=str(event_id))
        row.event = event
        row.title = (event.title if event else row.title)[:200]
        row.operation = AgendaExport.Operation.SET if public else AgendaExport.Operation.DELETE
        row.state, row.attempts, row.last_error = AgendaExport.State.PENDING, 0, ""
        row.next_attempt_at = timezone.now()
        row.save()
        rows.append(row)
    if rows:
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: exports_enqueue(ids=ids))
    return rows


def exports_record_many(*, event_ids: list[int]) -> list[AgendaExport]:
    """``exports_record`` of many events written together: nothing while an agenda is
    imported, one query when no agenda exports, else each event as ``exports_record``."""
    if importing.get() or not event_ids:
        return []
    if not AgendaSource.objects.filter(export_enabled=True).exists():
        return []
    return [row for pk in event_ids for row in exports_record(event_id=pk)]


def exports_enqueue(*, ids: list[int]) -> None:
    """Enqueue the sending task of each row; found by name (``apps.interop.tasks`` imports
    this module), the task object itself so that eager mode runs it in process."""
    task = current_app.tasks[SEND_TASK]
    for pk in ids:
        task.delay(pk)


def _record(row: AgendaExport, stamp: Any, **fields: Any) -> None:
    """Write the outcome unless the row changed meanwhile (a newer edit: its own task sends it)."""
    AgendaExport.objects.filter(pk=row.pk, updated_at=stamp).update(
        **fields, updated_at=timezone.now()
    )
    for name, value in fields.items():
        setattr(row, name, value)


def _fail(row: AgendaExport, stamp: Any, message: str, *, final: bool) -> None:
    attempts = row.attempts + 1
    if final or attempts > len(RETRY_DELAYS):
        state, next_at = AgendaExport.State.FAILED, None
    else:
        state, next_at = AgendaExport.State.PENDING, timezone.now() + RETRY_DELAYS[attempts - 1]
    _record(
        row,
        stamp,
        attempts=attempts,
        last_error=message[:2000],
        state=state,
        next_attempt_at=next_at,
    )
    logger.warning("openagenda export %s failed (%s): %s", row.pk, attempts, message)


def export_send(*, export_id: int) -> AgendaExport | None:
    """Send one pending outbox row, outside any transaction (the HTTP calls are bounded).

    The by-external-id operations are idempotent, so two workers sending the same row at
    once do no harm; the outcome is written only if the row did not change meanwhile.
    """
    row = (
        AgendaExport.objects.select_related("source", "event")
        .filter(pk=export_id, state=AgendaExport.State.PENDING)
        .first()
    )
    if row is None:
        return None
    stamp, source = row.updated_at, row.source
    try:
        with OpenAgendaClient(base_url=source.base_url, key=source.key) as client:
            if row.operation == AgendaExport.Operation.SET and row.event is not None:
                body = event_body(event=row.event, source=source)
                _created, answer = client.event_set(
                    agenda_uid=source.agenda_uid, ext_key=EXT_KEY, ext_id=row.ext_id, body=body
                )
                row.event_uid = answer["uid"]
            else:
                client.event_delete(
                    agenda_uid=source.agenda_uid, ext_key=EXT_KEY, ext_id=row.ext_id
                )
    except ExportBodyError as exc:
        _fail(row, stamp, str(exc), final=True)
        return row
    except InvalidDocumentError as exc:
        _fail(row, stamp, f"{exc.standard} invalide : {exc.detail}", final=True)
        return row
    except OpenAgendaError as exc:
        _fail(row, stamp, str(exc), final=exc.status in FINAL_STATUSES)
        return row
    _record(
        row,
        stamp,
        state=AgendaExport.State.DONE,
        sent_at=timezone.now(),
        last_error="",
        next_attempt_at=None,
        attempts=row.attempts + 1,
        event_uid=row.event_uid,
    )
    return row


def exports_due(*, at: Any = None) -> list[int]:
    """Ids of the pending rows whose next attempt is due (the beat's retry sweep)."""
    now = at or timezone.now()
    return list(
        AgendaExport.objects.filter(
            state=AgendaExport.State.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
