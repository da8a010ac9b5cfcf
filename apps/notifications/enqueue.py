"""The one door to the push pipeline's Celery tasks: every enqueue goes through here.

Tasks are found by name in the Celery app's registry (``AppConfig.ready`` imports
``apps.notifications.tasks``, which registers them) rather than imported: the tasks call the
services, the services enqueue tasks, and importing one from the other made an import cycle.
The task objects themselves are used, so eager mode (embedded, tests) still runs them in
process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from celery import current_app
from django.conf import settings

from apps.notifications.gateway.push import MAX_BATCH_SIZE

TASKS = "apps.notifications.tasks"
DISPATCH = f"{TASKS}.dispatch"
SEND_BATCH = f"{TASKS}.send_batch"


def _task(name: str) -> Any:
    return current_app.tasks[name]


def _chunks(ids: Sequence[int], size: int = MAX_BATCH_SIZE) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def dispatch(*, notification_id: int) -> None:
    """Enqueue ``dispatch`` of one notification (cut into ``send_batch`` tasks)."""
    _task(DISPATCH).delay(notification_id)


def send_batches(*, ids: Sequence[int], countdown: float = 0.0) -> int:
    """Enqueue ``send_batch`` for ``ids`` in batches of ≤ 500; returns the number of tasks.

    In the embedded mode (no broker, tasks run eagerly) a delayed retry is left to the
    sweeper instead of running at once.
    """
    if not ids:
        return 0
    if countdown > 0 and settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    send_batch = _task(SEND_BATCH)
    tasks = 0
    for chunk in _chunks(sorted(ids)):
        if countdown > 0:
            send_batch.apply_async((chunk,), countdown=countdown)
        else:
            send_batch.delay(chunk)
        tasks += 1
    return tasks
