"""Run the Celery beat schedule in-process, for the embedded mode (no broker, eager tasks).

``celery beat`` needs a broker; ``make run`` has none, so this loop asks each entry of the
project's beat schedule (the table in ``backend/celery.py``) whether it is due (Celery's own
``is_due``) and runs it eagerly. Production runs the real ``celery -A backend beat``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from celery import current_app
from celery.schedules import schedule as celery_schedule
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the beat schedule eagerly in this process (embedded mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run interval entries once.")

    def handle(self, *args, once: bool = False, **options):
        # The project's Celery app (created with the settings), without importing the project:
        # apps never import backend (.importlinter).
        app = current_app._get_current_object()
        if not app.conf.task_always_eager:
            raise CommandError("A broker is configured: run `celery -A backend beat` instead.")
        app.loader.import_default_modules()  # runs autodiscover_tasks()
        entries = {}
        for name, entry in app.conf.beat_schedule.items():
            sched = entry["schedule"]
            if isinstance(sched, int | float):
                sched = celery_schedule(run_every=sched, app=app)
            # Interval entries run at start (publish what is due); crontab ones wait their turn.
            last: datetime | None = None if isinstance(sched, celery_schedule) else app.now()
            entries[name] = [entry["task"], sched, last]
        while True:
            wait = 60.0
            for name, entry in entries.items():
                task_name, sched, last = entry
                due, next_in = (True, 0.0) if last is None else sched.is_due(last)
                if due:
                    entry[2] = app.now()
                    try:
                        app.tasks[task_name].apply(throw=True)
                    except Exception:
                        logger.exception("beat entry %s failed", name)
                    _due, next_in = sched.is_due(entry[2])
                wait = min(wait, next_in)
            if once:
                return
            time.sleep(max(1.0, wait))
