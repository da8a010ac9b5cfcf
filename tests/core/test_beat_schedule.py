"""The beat schedule is one table in backend/celery.py, with the same entries as before."""

from celery.schedules import crontab

from backend.celery import BEAT_SCHEDULE, app

# The entries the apps registered through ``beat_entry`` before the table (issue 12).
PREVIOUS = {
    "content-lifecycle": ("apps.core.tasks.content_lifecycle_tick", 60.0),
    "works-status": ("apps.works.tasks.works_status_tick", 300.0),
    "interop-sources-poll": ("apps.interop.tasks.sources_poll", 900.0),
    # Issue 15 (OpenAgenda): the agendas' poll and the export outbox's retries.
    "openagenda-poll": ("apps.interop.tasks.agendas_poll", 1800.0),
    "openagenda-export-retry": ("apps.interop.tasks.agenda_exports_retry", 60.0),
    # Added with the DiaLog outbox (issue 14).
    "interop-dialog-sweep": ("apps.interop.tasks.dialog_sweep_tick", 60.0),
    "residents-purge": ("apps.residents.tasks.residents_purge_tick", crontab(hour=3, minute=17)),
    "interactions-purge": (
        "apps.recommend.tasks.interactions_purge_tick",
        crontab(hour=3, minute=37),
    ),
    "item-popularity-refresh": ("apps.recommend.tasks.item_popularity_refresh_tick", 600.0),
    "recommender-train": (
        "apps.recommend.tasks.recommender_train_nightly",
        crontab(hour=4, minute=13),
    ),
    "notifications-sweep": ("apps.notifications.tasks.sweep_tick", 60.0),
    "notifications-reminders": ("apps.notifications.tasks.reminders_tick", 900.0),
    "notifications-purge": (
        "apps.notifications.tasks.deliveries_purge_tick",
        crontab(hour=3, minute=47),
    ),
    # Added since (docs/alerts.md): the CAP sources, every minute.
    "cap-sources-poll": ("apps.alerts.tasks.cap_sources_poll", 60.0),
    # Issue 18 (docs/recommender.md, "Online evaluation"): before the nightly training.
    "online-evaluation": (
        "apps.recommend.tasks.online_evaluation_nightly",
        crontab(hour=4, minute=3),
    ),
}


def test_beat_schedule_keeps_the_previous_names_tasks_and_schedules():
    schedule = app.conf.beat_schedule
    assert {name: (entry["task"], entry["schedule"]) for name, entry in schedule.items()} == (
        PREVIOUS
    )


def test_beat_schedule_is_the_table_and_every_task_exists():
    app.loader.import_default_modules()
    assert [row[0] for row in BEAT_SCHEDULE] == list(app.conf.beat_schedule)
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name


def test_beat_schedule_queue_is_the_one_the_router_picks():
    app.loader.import_default_modules()
    for name, task, _schedule, queue in BEAT_SCHEDULE:
        routed = app.amqp.router.route({}, task)["queue"].name
        assert (name, routed) == (name, queue)
        assert app.conf.beat_schedule[name]["options"] == {"queue": queue}
