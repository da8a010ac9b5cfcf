"""The single Celery app (``celery -A backend worker``) and the beat schedule."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("push"))
app.conf.task_routes = {"apps.notifications.tasks.*": {"queue": "push"}}
app.conf.beat_schedule = {
    "content-lifecycle": {
        "task": "apps.core.tasks.content_lifecycle_tick",
        "schedule": 60.0,
    },
}
app.autodiscover_tasks()


def beat_entry(name: str, task: str, schedule: float | crontab) -> None:
    """Register a periodic task; apps call this from their ``AppConfig.ready``."""
    app.conf.beat_schedule[name] = {"task": task, "schedule": schedule}
