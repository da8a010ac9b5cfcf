"""Imports of roadworks: read a source, validate it, apply each record through the works services.

Everything goes through the same services as a staff edit (``works_apply``, ``content_publish``,
``works_cancel``, ``content_archive``), so areas, pushes and tombstones behave the same.
Idempotent: each record's works has the UUID ``uuid5(source, identifier)`` and a fingerprint of
what was applied; a record whose fingerprint has not changed is not written, so a re-run
changes nothing and notifies nobody. A source that fails to load or does not validate changes
nothing: its ``last_error`` says why (shown as an admin warning).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSException
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.core.audit.actors import acting_as, import_label
from apps.core.bulk import RowRefusedError, rows_create
from apps.core.models import Status
from apps.core.services import content_archive, content_publish, content_unpublish
from apps.interop import standards
from apps.interop.datex2 import parse as datex2_parse
from apps.interop.models import Source, SourceFormat, SourceItem
from apps.interop.records import WorksRecord
from apps.interop.sources.fetch import MAX_BYTES, FetchError, fetch
from apps.interop.wzdx import parse as wzdx_parse
from apps.works.models import Works, WorkStatus
from apps.works.services import works_apply, works_cancel, works_create_many

logger = logging.getLogger(__name__)
#: Namespace of imported works' UUIDs (``uuid5(namespace, "<source id>:<identifier>")``).
IMPORT_NAMESPACE = uuid.UUID("6f0b3c1e-3f44-5a2e-9a1d-51a7e0c0f0a1")


class SourceError(Exception):
    """A source could not be imported; nothing was changed."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0


def source_read(*, source: Source) -> bytes:
    """The source's document: fetched from its URL (bounded) or read from its file."""
    if source.url:
        try:
            return fetch(source.url)
        except FetchError as exc:
            raise SourceError(str(exc)) from exc
    try:
        with source.file.open("rb") as handle:
            body = handle.read(MAX_BYTES + 1)
    except (OSError, SuspiciousFileOperation) as exc:
        # A command-line source names a file outside the media folder: only its command reads it.
        raise SourceError(f"Fichier illisible : {source.file.name} ({exc}).") from exc
    if len(body) > MAX_BYTES:
        raise SourceError(f"Fichier trop gros (plus de {MAX_BYTES} octets).")
    return body


def records_parse(*, body: bytes, format: str) -> list[WorksRecord]:
    """Validate ``body`` against its standard and read its works; ``SourceError`` if invalid."""
    try:
        if format == SourceFormat.WZDX:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise SourceError(f"WZDx : JSON illisible ({exc}).") from exc
            standards.wzdx_validate(document)
            return wzdx_parse.records(document)
        standards.xml_validate(standards.datex2_schema(), body, "DATEX II")
        return datex2_parse.records(body)
    except standards.InvalidDocumentError as exc:
        raise SourceError(f"{exc.standard} invalide : {exc.detail}") from exc
    except (KeyError, ValueError, TypeError, IndexError, GEOSException) as exc:
        # Valid against the schema yet unreadable (a one-point line, a number out of range).
        raise SourceError(f"{format} illisible : {exc.__class__.__name__} {exc}"[:500]) from exc


def _fingerprint(record: WorksRecord, source: Source, fields: dict[str, Any]) -> str:
    material = {
        **{k: v for k, v in fields.items() if k not in ("geometry", "detour_geometry")},
        "geometry": fields["geometry"].ewkt if fields["geometry"] else None,
        "detour": fields["detour_geometry"].ewkt if fields["detour_geometry"] else None,
        "periods": [p.__dict__ for p in record.periods],
        "cancelled": record.cancelled,
        "owner": [source.organization_id, source.category_id, source.notify],
    }
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def works_uuid(*, source: Source, external_id: str) -> uuid.UUID:
    return uuid.uuid5(IMPORT_NAMESPACE, f"{source.pk}:{external_id}")


@transaction.atomic
def record_apply(*, source: Source, record: WorksRecord, item: SourceItem | None) -> str:
    """Create or update the works of one record; ``created``, ``updated`` or ``unchanged``."""
    fields = record.fields()
    fingerprint = _fingerprint(record, source, fields)
    if item is not None and item.fingerprint == fingerprint:
        works = item.works
        if works.status == Status.PUBLISHED or works.is_over(timezone.now()):
            return "unchanged"
    works = (
        item.works
        if item is not None
        else Works(
            uuid=works_uuid(source=source, external_id=record.source_id), status=Status.DRAFT
        )
    )
    data = {
        **fields,
        "category": source.category,
        "notify": source.notify,
        "periods": [dict(p.__dict__) for p in record.periods],
    }
    # Published first, cancelled after (below), as a staff edit would: the cancellation of
    # public works reaches residents as one update push.
    works_apply(works=works, data=data, organization=source.organization)
    if item is None:
        # Before the publication: works an import brought in are never sent to DiaLog
        # (``works_change_record`` reads the import origin when the publication is saved).
        item = SourceItem.objects.create(
            source=source, external_id=record.source_id, works=works, fingerprint=fingerprint
        )
        outcome = "created"
    else:
        item.fingerprint = fingerprint
        item.save(update_fields=["fingerprint"])
        outcome = "updated"
    now = timezone.now()
    if works.status != Status.PUBLISHED and not works.is_over(now):
        content_publish(item=works, at=now)
    if record.cancelled and works.work_status not in (WorkStatus.CANCELLED, WorkStatus.COMPLETED):
        works_cancel(works=works)
    return outcome


def records_create(*, source: Source, records: list[WorksRecord]) -> list[Works]:
    """Create the works of new records all at once (``works_create_many``), with their
    SourceItems: what ``record_apply`` does for each of them, in a few statements.

    For records that are not cancelled (a cancellation is an update push after the
    publication: ``record_apply``). Raises ``SourceError`` naming the record refused.
    """
    rows = []
    fingerprints = {}
    for record in records:
        fields = record.fields()
        fingerprints[record.source_id] = _fingerprint(record, source, fields)
        works = Works(
            uuid=works_uuid(source=source, external_id=record.source_id),
            status=Status.DRAFT,
            category=source.category,
            notify=source.notify,
            **fields,
        )
        rows.append((works, [dict(p.__dict__) for p in record.periods]))
    names = {id(works): record.source_id for (works, _p), record in zip(rows, records, strict=True)}

    def items_create(created: list[Works]) -> None:
        rows_create(
            SourceItem,
            [
                SourceItem(
                    source=source,
                    external_id=names[id(works)],
                    works=works,
                    fingerprint=fingerprints[names[id(works)]],
                )
                for works in created
            ],
        )

    try:
        return works_create_many(
            rows=rows,
            organization=source.organization,
            publish_at=timezone.now(),
            after_insert=items_create,
        )
    except RowRefusedError as exc:
        name = names.get(id(exc.row), "") if exc.row is not None else ""
        where = f"Élément « {name} »" if name else "Éléments"
        raise SourceError(f"{where} refusé : {exc}") from exc


def _withdraw(item: SourceItem) -> None:
    works = item.works
    if works.status == Status.PUBLISHED:
        content_archive(item=works)
    elif works.status == Status.SCHEDULED:
        content_unpublish(item=works)


@contextmanager
def without_savepoints() -> Iterator[None]:
    """Nested atomic blocks take no savepoint inside the block (this thread's connection only).

    An import is one transaction, applied whole or rolled back whole, so the savepoints of the
    services' own atomic blocks (about 14 per works: ``works_apply``, ``content_save``,
    ``content_publish``, the outbox…) buy nothing; they cost two round trips each, over half
    of an import's queries (bench/README.md). Without them an error inside a nested block marks
    the whole transaction for rollback, which is what an import does anyway.
    """
    features = connection.features
    before = features.uses_savepoints
    features.uses_savepoints = False
    try:
        yield
    finally:
        features.uses_savepoints = before


@transaction.atomic
def source_import(*, source: Source, records: list[WorksRecord]) -> ImportReport:
    """Apply ``records`` to the source's works: create, update, withdraw what left the feed.

    One transaction: a record that the works services refuse (``ValidationError``) rolls the
    whole import back, so a source is applied entirely or not at all.
    """
    report = ImportReport()
    items = {i.external_id: i for i in source.items.select_related("works")}
    seen: set[str] = set()
    with without_savepoints(), acting_as(import_label(source.name)):
        fresh: list[WorksRecord] = []
        for record in records:
            if record.source_id in seen or record.geometry is None:
                continue
            seen.add(record.source_id)
            if record.source_id not in items and not record.cancelled:
                fresh.append(record)  # created below, all at once
                continue
            try:
                outcome = record_apply(
                    source=source, record=record, item=items.get(record.source_id)
                )
            except (ValidationError, DatabaseError, ValueError, TypeError) as exc:
                raise SourceError(f"Élément « {record.source_id} » refusé : {exc}") from exc
            setattr(report, outcome, getattr(report, outcome) + 1)
        try:
            report.created += len(records_create(source=source, records=fresh))
        except (DatabaseError, ValueError, TypeError) as exc:
            raise SourceError(f"Éléments refusés : {exc}") from exc
        for external_id, item in items.items():
            if external_id not in seen and item.works.status in (
                Status.PUBLISHED,
                Status.SCHEDULED,
            ):
                _withdraw(item)
                report.withdrawn += 1
    return report


def source_run(*, source: Source, body: bytes | None = None) -> ImportReport:
    """Read, validate and import a source, and record the outcome on it (counts or error)."""
    now = timezone.now()
    try:
        document = body if body is not None else source_read(source=source)
        report = source_import(
            source=source, records=records_parse(body=document, format=source.format)
        )
    except SourceError as exc:
        logger.warning("import source %s failed: %s", source.pk, exc)
        Source.objects.filter(pk=source.pk).update(last_run_at=now, last_error=str(exc)[:2000])
        source.last_run_at, source.last_error = now, str(exc)[:2000]
        raise
    counts: dict[str, Any] = {
        "created_count": report.created,
        "updated_count": report.updated,
        "unchanged_count": report.unchanged,
        "withdrawn_count": report.withdrawn,
    }
    Source.objects.filter(pk=source.pk).update(
        last_run_at=now, last_success_at=now, last_error="", **counts
    )
    for name, value in {**counts, "last_run_at": now, "last_success_at": now}.items():
        setattr(source, name, value)
    source.last_error = ""
    return report


def source_for_location(
    *, location: str, format: str, organization: Any, category: Any, notify: bool
) -> Source:
    """The source a command-line import of ``location`` (URL or file path) records itself on."""
    is_url = location.startswith(("http://", "https://"))
    name = f"{format}:{location}"[:120]
    source = Source.objects.filter(name=name).first()
    if source is None:
        source = Source(name=name, format=format, enabled=False)
        if is_url:
            source.url = location
        else:
            source.file.name = str(Path(location))
    source.organization, source.category, source.notify = organization, category, notify
    source.save()
    return source
