"""Import of an OpenAgenda agenda: read every page, validate, apply each event as a staff edit.

Everything goes through ``apps.events.services.event_apply`` (and ``content_publish``,
``content_archive``), so areas, occurrences, pushes and tombstones behave as for an event typed
in the admin; a cancellation at the source is ``event_cancel``'s update push. Idempotent by
event uid: each event's ``uuid`` is ``uuid5(agenda source, uid)`` and the mapping applied is
fingerprinted, so an unchanged event is not written and a re-run notifies nobody. Events of an
agenda the city does not moderate land as drafts (``AgendaSource.moderated``). A run that fails
to read or validate any page changes nothing: ``last_error`` says why (an admin warning).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.core.audit.actors import acting_as, import_label
from apps.core.bulk import RowRefusedError, rows_create
from apps.core.models import Status
from apps.core.services import content_archive, content_publish, content_unpublish
from apps.events.models import Event, Venue
from apps.events.services import EVENT_FIELDS, event_apply, events_create_many, venue_upsert
from apps.interop.openagenda import export
from apps.interop.openagenda.client import OpenAgendaClient, OpenAgendaError
from apps.interop.openagenda.mapping import Mapped, MappingError, event_map
from apps.interop.openagenda.models import AgendaItem, AgendaLocation, AgendaSource
from apps.interop.sources.services import ImportReport, without_savepoints
from apps.interop.standards import InvalidDocumentError

logger = logging.getLogger(__name__)
#: Namespace of imported events' UUIDs (``uuid5(namespace, "<source id>:<event uid>")``).
AGENDA_NAMESPACE = uuid.UUID("b3c0e6c4-8f0e-5b1f-9a55-0e6d0a9f7a21")


class AgendaError(Exception):
    """An agenda could not be imported; nothing was changed."""


#: An agenda's run counts what a feed's run counts (``sources.services``).
AgendaReport = ImportReport


def event_uuid(*, source: AgendaSource, uid: int) -> uuid.UUID:
    return uuid.uuid5(AGENDA_NAMESPACE, f"{source.pk}:{uid}")


def agenda_read(*, source: AgendaSource) -> list[dict[str, Any]]:
    """Every event of the agenda, each page validated against the contract."""
    try:
        with OpenAgendaClient(base_url=source.base_url, key=source.key) as client:
            return list(client.events(agenda_uid=source.agenda_uid))
    except OpenAgendaError as exc:
        raise AgendaError(str(exc)) from exc
    except InvalidDocumentError as exc:
        raise AgendaError(f"{exc.standard} invalide : {exc.detail}"[:2000]) from exc


def agenda_map(events: list[dict[str, Any]]) -> list[Mapped]:
    """The events read for ``event_apply``; any unreadable one refuses the whole agenda."""
    mapped = []
    for document in events:
        try:
            mapped.append(event_map(document))
        except (MappingError, KeyError, ValueError, TypeError) as exc:
            raise AgendaError(f"Événement illisible : {exc}"[:2000]) from exc
    return mapped


def _fingerprint(mapped: Mapped, source: AgendaSource) -> str:
    material = {
        "data": mapped.data,
        "extras": mapped.extras,
        "owner": [source.organization_id, source.category_id, source.notify, source.moderated],
    }

    def default(value: Any) -> Any:
        return getattr(value, "ewkt", None) or str(value)

    text = json.dumps(material, sort_keys=True, default=default)
    return hashlib.sha256(text.encode()).hexdigest()


def _venue(
    venue: dict[str, Any] | None,
    venues: dict[str, Venue],
    *,
    source: AgendaSource,
    location_uid: int | None,
) -> dict[str, Any] | Venue | None:
    """The venue mapping, or the ``Venue`` already upserted from the same mapping in this run.

    The first time in a run, the venue's OpenAgenda location uid is remembered for this
    agenda (``AgendaLocation``), so that our own events at that venue can be sent back there.
    """
    if venue is None:
        return None
    key = json.dumps(venue, sort_keys=True, default=lambda v: getattr(v, "ewkt", None) or str(v))
    if key not in venues:
        venues[key] = venue_upsert(**venue)
        if location_uid is not None:
            AgendaLocation.objects.update_or_create(
                source=source, venue=venues[key], defaults={"location_uid": location_uid}
            )
    return venues[key]


@transaction.atomic
def agenda_event_apply(
    *,
    source: AgendaSource,
    mapped: Mapped,
    item: AgendaItem | None,
    venues: dict[str, Venue] | None = None,
) -> str:
    """Create or update the event of one OpenAgenda event; ``created``/``updated``/``unchanged``.

    ``venues`` caches the venues upserted in this run (by mapping), so that 2,000 events in
    40 halls cost 40 upserts.
    """
    fingerprint = _fingerprint(mapped, source)
    now = timezone.now()
    if item is not None and item.fingerprint == fingerprint:
        event = item.event
        if not source.moderated or event.status == Status.PUBLISHED or event.is_over(now):
            return "unchanged"
    event = (
        item.event
        if item is not None
        else Event(uuid=event_uuid(source=source, uid=mapped.uid), status=Status.DRAFT)
    )
    data = {**mapped.data, "category": source.category, "notify": source.notify}
    data["venue"] = _venue(
        data["venue"],
        {} if venues is None else venues,
        source=source,
        location_uid=mapped.location_uid,
    )
    event_apply(event=event, data=data, organization=source.organization)
    # Published as soon as it is applied, as a staff edit would, when the city moderates the
    # agenda; otherwise it waits as a draft for an editor (who may publish it: later updates
    # then keep it published).
    if source.moderated and event.status == Status.DRAFT and not event.is_over(now):
        content_publish(item=event, at=now)
    if item is None:
        AgendaItem.objects.create(
            source=source,
            event_uid=mapped.uid,
            event=event,
            fingerprint=fingerprint,
            **mapped.extras,
        )
        return "created"
    item.fingerprint = fingerprint
    for name, value in mapped.extras.items():
        setattr(item, name, value)
    item.save(update_fields=["fingerprint", *mapped.extras])
    return "updated"


def agenda_events_create(
    *, source: AgendaSource, events: list[Mapped], venues: dict[str, Venue]
) -> list[Event]:
    """Create the events of new OpenAgenda events all at once (``events_create_many``), with
    their AgendaItems: what ``agenda_event_apply`` does for each, in a few statements.

    Venues are upserted first, once per distinct mapping, in the agenda's order. Raises
    ``AgendaError`` naming the event refused.
    """
    rows = []
    uids: dict[int, Mapped] = {}
    for mapped in events:
        values = {**mapped.data, "category": source.category, "notify": source.notify}
        status = values.pop("event_status", None)
        dates = values.pop("extra_dates", None) or []
        venue = _venue(values.pop("venue"), venues, source=source, location_uid=mapped.location_uid)
        unknown = sorted(set(values) - set(EVENT_FIELDS))
        if unknown:
            raise TypeError(f"Event has no writable field {', '.join(unknown)}")
        event = Event(uuid=event_uuid(source=source, uid=mapped.uid), status=Status.DRAFT)
        for name, value in values.items():
            setattr(event, name, value)
        event.venue = venue  # type: ignore[assignment]
        if status:
            event.event_status = status
        uids[id(event)] = mapped
        rows.append((event, [(start, end) for start, end in dates]))

    def items_create(created: list[Event]) -> None:
        rows_create(
            AgendaItem,
            [
                AgendaItem(
                    source=source,
                    event_uid=uids[id(event)].uid,
                    event=event,
                    fingerprint=_fingerprint(uids[id(event)], source),
                    **uids[id(event)].extras,
                )
                for event in created
            ],
        )

    try:
        return events_create_many(
            rows=rows,
            organization=source.organization,
            publish_at=timezone.now() if source.moderated else None,
            after_insert=items_create,
        )
    except RowRefusedError as exc:
        refused = uids.get(id(exc.row)) if exc.row is not None else None
        where = f"Événement {refused.uid}" if refused else "Événements"
        raise AgendaError(f"{where} refusé : {exc}"[:2000]) from exc


def _withdraw(item: AgendaItem) -> bool:
    event = item.event
    if event.status == Status.PUBLISHED:
        content_archive(item=event)
        return True
    if event.status == Status.SCHEDULED:
        content_unpublish(item=event)
        return True
    return False


@transaction.atomic
def agenda_import(*, source: AgendaSource, events: list[Mapped]) -> AgendaReport:
    """Apply the agenda's events: create, update, withdraw what left it (or was removed).

    One transaction: an event the events services refuse rolls the whole import back.
    """
    token = export.importing.set(True)
    try:
        # One transaction applied whole or not at all: the services' nested atomic blocks need
        # no savepoint (about 15 per event, two round trips each: bench/README.md).
        with without_savepoints(), acting_as(import_label(source.name)):
            return _import(source=source, events=events)
    finally:
        export.importing.reset(token)


def _import(*, source: AgendaSource, events: list[Mapped]) -> AgendaReport:
    report = AgendaReport()
    items = {i.event_uid: i for i in source.items.select_related("event")}
    seen: set[int] = set()
    venues: dict[str, Venue] = {}
    fresh: list[Mapped] = []
    for mapped in events:
        if mapped.uid in seen or mapped.removed:
            continue
        seen.add(mapped.uid)
        if mapped.uid not in items:
            fresh.append(mapped)  # created below, all at once
            continue
        try:
            outcome = agenda_event_apply(
                source=source, mapped=mapped, item=items.get(mapped.uid), venues=venues
            )
        except (ValidationError, DatabaseError, ValueError, TypeError) as exc:
            raise AgendaError(f"Événement {mapped.uid} refusé : {exc}"[:2000]) from exc
        setattr(report, outcome, getattr(report, outcome) + 1)
    try:
        report.created += len(agenda_events_create(source=source, events=fresh, venues=venues))
    except (ValidationError, DatabaseError, ValueError, TypeError) as exc:
        raise AgendaError(f"Événements refusés : {exc}"[:2000]) from exc
    for uid, item in items.items():
        if uid not in seen and _withdraw(item):
            report.withdrawn += 1
    return report


def agenda_run(*, source: AgendaSource, events: list[dict[str, Any]] | None = None) -> AgendaReport:
    """Read, validate and import an agenda, and record the outcome on it (counts or error)."""
    now = timezone.now()
    try:
        documents = events if events is not None else agenda_read(source=source)
        report = agenda_import(source=source, events=agenda_map(documents))
    except AgendaError as exc:
        logger.warning("openagenda source %s failed: %s", source.pk, exc)
        AgendaSource.objects.filter(pk=source.pk).update(
            last_run_at=now, last_error=str(exc)[:2000]
        )
        source.last_run_at, source.last_error = now, str(exc)[:2000]
        raise
    counts: dict[str, Any] = {
        "created_count": report.created,
        "updated_count": report.updated,
        "unchanged_count": report.unchanged,
        "withdrawn_count": report.withdrawn,
    }
    AgendaSource.objects.filter(pk=source.pk).update(
        last_run_at=now, last_success_at=now, last_error="", **counts
    )
    for name, value in {**counts, "last_run_at": now, "last_success_at": now}.items():
        setattr(source, name, value)
    source.last_error = ""
    return report
