"""The erasure log: an append-only file outside the database, replayed after a backup restore.

Restoring a database dump brings back the devices erased since it was taken. Every erasure
(``DELETE /me/``, the inactivity purge, a transfer's old device) therefore appends one JSON
line per device to ``ERASURE_LOG_PATH`` *inside* the erasing transaction, before it commits: if
the line cannot be written the erasure fails (and is retried) rather than happen unrecorded.
``erasures_replay`` (``manage.py replay_erasures``) deletes them again.

A line holds only what the replay needs (docs/privacy.md)::

    {"v": 1, "at": "2026-12-07T08:15:00+00:00", "device": 123,
     "registered_at": "2026-03-01T10:00:00.123456+00:00", "reason": "request"}

A line is written before the commit: if the transaction then rolls back, the line names a
device that asked to be erased (or was due to be) and the replay does what was asked.

``registered_at`` guards the replay against ids reused after a restore: a device registered
after the restore may get the id of an erased one (the id sequence is restored too); it is
left alone because it was registered at another time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.residents.models import Device

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Why a device was erased: the resident asked, it was inactive, it moved to a new phone.
REASONS = ("request", "inactive", "transfer")
#: Devices deleted per statement during a replay.
REPLAY_BATCH = 500


@dataclass(frozen=True)
class Erasure:
    at: datetime
    device_id: int
    registered_at: datetime
    reason: str


def erasure_log_path() -> Path:
    return Path(settings.ERASURE_LOG_PATH)


def erasures_record(*, devices: Iterable[tuple[int, datetime]], reason: str) -> int:
    """Append one line per ``(device id, created_at)`` to the erasure log; return how many.

    Call it in the erasing transaction, before the rows go: an ``OSError`` aborts the erasure.
    One ``write`` on a file opened for appending, then ``fsync``: lines from concurrent
    processes never interleave and a recorded erasure survives a crash of the machine.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown erasure reason {reason!r}")
    now = timezone.now().isoformat()
    lines = [
        json.dumps(
            {
                "v": FORMAT_VERSION,
                "at": now,
                "device": int(pk),
                "registered_at": created_at.isoformat(),
                "reason": reason,
            },
            separators=(",", ":"),
        )
        for pk, created_at in devices
    ]
    if not lines:
        return 0
    path = erasure_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"erasure log {path}: short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(lines)


def erasures_read(path: Path, *, since: datetime | None = None) -> Iterator[Erasure]:
    """The erasures in the log at ``path`` (erased at or after ``since``), oldest first.

    A damaged line (a crash mid-write, an edit by hand) is logged and skipped, never fatal.
    """
    with path.open("rb") as log:
        for number, raw in enumerate(log, start=1):
            try:
                record = json.loads(raw)
                erasure = Erasure(
                    at=datetime.fromisoformat(record["at"]),
                    device_id=int(record["device"]),
                    registered_at=datetime.fromisoformat(record["registered_at"]),
                    reason=str(record["reason"]),
                )
            except (ValueError, KeyError, TypeError):
                logger.warning("erasure log %s: line %d unreadable, skipped", path, number)
                continue
            if since is None or erasure.at >= since:
                yield erasure


def erasures_replay(*, paths: Iterable[Path], since: datetime | None = None) -> int:
    """Delete again every logged device still in the database; return how many. Idempotent.

    A device matches its line by id *and* registration time. Deleting cascades like an
    erasure. Nothing is appended to the log (the lines are already there).
    """
    erased = 0
    batch: list[Erasure] = []

    def flush() -> int:
        match = Q()
        for e in batch:
            match |= Q(pk=e.device_id, created_at=e.registered_at)
        with transaction.atomic():
            deleted = Device.objects.filter(match).delete()[1].get(Device._meta.label, 0)
        batch.clear()
        return deleted

    for path in paths:
        for erasure in erasures_read(path, since=since):
            batch.append(erasure)
            if len(batch) >= REPLAY_BATCH:
                erased += flush()
    if batch:
        erased += flush()
    return erased
