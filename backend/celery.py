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

# Every periodic task, in one table: name, task, schedule, queue. Apps no longer register their
# own entries, so this is the whole of what `celery -A backend beat` and `beat_embedded` run.
# The queue repeats what ``task_routes`` decides, so the table reads without the router.
BEAT_SCHEDULE: tuple[tuple[str, str, float | crontab, str], ...] = (
    # name                       task                                                 schedule                    queue
    ("content-lifecycle",       "apps.core.tasks.content_lifecycle_tick",            60.0,                       "default"),
    ("works-status",            "apps.works.tasks.works_status_tick",                300.0,                      "default"),
    ("interop-sources-poll",    "apps.interop.tasks.sources_poll",                   15 * 60.0,                  "default"),
    ("openagenda-poll",         "apps.interop.tasks.agendas_poll",                   30 * 60.0,                  "default"),
    ("openagenda-export-retry", "apps.interop.tasks.agenda_exports_retry",           60.0,                       "default"),
    ("interop-dialog-sweep",    "apps.interop.tasks.dialog_sweep_tick",              60.0,                       "default"),
    ("cap-sources-poll",        "apps.alerts.tasks.cap_sources_poll",                60.0,                       "default"),
    ("residents-purge",         "apps.residents.tasks.residents_purge_tick",         crontab(hour=3, minute=17), "default"),
    ("interactions-purge",      "apps.recommend.tasks.interactions_purge_tick",      crontab(hour=3, minute=37), "default"),
    ("item-popularity-refresh", "apps.recommend.tasks.item_popularity_refresh_tick", 600.0,                      "default"),
    # At night, after the purges and away from the morning peak of the feed; the online
    # evaluation (and a rollback) before the training, which may serve a new model.
    ("online-evaluation",       "apps.recommend.tasks.online_evaluation_nightly",    crontab(hour=4, minute=3),  "default"),
    ("recommender-train",       "apps.recommend.tasks.recommender_train_nightly",    crontab(hour=4, minute=13), "default"),
    ("notifications-sweep",     "apps.notifications.tasks.sweep_tick",               60.0,                       "push"),
    ("notifications-reminders", "apps.notifications.tasks.reminders_tick",           900.0,                      "push"),
    ("notifications-purge",     "apps.notifications.tasks.deliveries_purge_tick",    crontab(hour=3, minute=47), "push"),
)  # fmt: skip
app.conf.beat_schedule = {
    name: {"task": task, "schedule": schedule, "options": {"queue": queue}}
    for name, task, schedule, queue in BEAT_SCHEDULE
}
app.autodiscover_tasks()


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
