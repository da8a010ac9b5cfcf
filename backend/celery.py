"""The single Celery app (``celery -A backend worker``) and the beat schedule."""

import logging
import os

from celery import Celery, signals
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

logger = logging.getLogger("backend.celery")

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


@signals.worker_init.connect(dispatch_uid="quartier.worker_start_check")
def refuse_a_bad_configuration(**kwargs: object) -> None:
    """Stop the worker at start, not at its first push: a default secret key or a silent push
    backend in production (``apps.core.checks``), or an FCM credentials file that is missing,
    unreadable or garbage (``apps.notifications.gateway.configured.gateway_check``)."""
    from django.core.exceptions import ImproperlyConfigured

    from apps.core.checks import enforce_production_settings
    from apps.notifications.gateway.configured import gateway_check

    try:
        enforce_production_settings()
        backend = gateway_check()
    except ImproperlyConfigured as error:
        logger.critical("the worker refuses to start: %s", error)
        # Celery logs and swallows a signal receiver's exceptions; SystemExit stops the worker.
        raise SystemExit(f"Quartier worker refuses to start: {error}") from error
    logger.info("push backend %s ready", backend)
