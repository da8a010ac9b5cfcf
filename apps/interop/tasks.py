"""Tasks of interop: poll import sources and OpenAgenda agendas; send the DiaLog and OpenAgenda
outboxes."""

from __future__ import annotations

import contextlib
import logging

from celery import shared_task

from apps.interop.models import AgendaSource, Source
from apps.interop.openagenda.export import export_send, exports_due
from apps.interop.openagenda.sync import AgendaError, agenda_run
from apps.interop.sources.services import SourceError, source_run

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def source_poll(source_id: int) -> None:
    """Import one source; a failure is recorded on it (and shown to staff), not retried here."""
    source = Source.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return
    # A failure is recorded on the source by ``source_run``; the next poll tries again.
    with contextlib.suppress(SourceError):
        source_run(source=source)


@shared_task(acks_late=True, ignore_result=True)
def sources_poll() -> int:
    """Enqueue one import per enabled source (beat, every 15 minutes)."""
    ids = list(Source.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        source_poll.delay(pk)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def agenda_poll(source_id: int) -> None:
    """Import one OpenAgenda agenda; a failure is recorded on it (and shown to staff)."""
    source = AgendaSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return
    with contextlib.suppress(AgendaError):
        agenda_run(source=source)


@shared_task(acks_late=True, ignore_result=True)
def agendas_poll() -> int:
    """Enqueue one import per enabled OpenAgenda agenda (beat, every 30 minutes)."""
    ids = list(AgendaSource.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        agenda_poll.delay(pk)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def agenda_export_send(export_id: int) -> None:
    """Send one OpenAgenda export; a failure is recorded on it and retried by the sweep."""
    export_send(export_id=export_id)


@shared_task(acks_late=True, ignore_result=True)
def agenda_exports_retry() -> int:
    """Enqueue the OpenAgenda exports whose retry is due (beat, every minute)."""
    ids = exports_due()
    for pk in ids:
        agenda_export_send.delay(pk)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def dialog_sync(regulation_id: int) -> dict[str, int]:
    """Send the due DiaLog changes of one regulation (enqueued on commit and by the sweeper)."""
    from dataclasses import asdict

    from apps.interop.dialog.services import regulation_sync

    return asdict(regulation_sync(regulation_id=regulation_id))


@shared_task(acks_late=True, ignore_result=True)
def dialog_sweep_tick() -> dict[str, int]:
    """Take back stuck DiaLog changes and re-enqueue lost ones (beat, every minute)."""
    from apps.interop.dialog.services import dialog_sweep

    return dialog_sweep()
