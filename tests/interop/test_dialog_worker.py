"""The DiaLog outbox through a real Celery worker (a subprocess) on Redis and the test database,
against the fake DiaLog: a worker killed mid-request, and a 30 s storm of 503 answers.

The acceptance of issue 14: "the outbox sends each change once, survives a worker kill and a
30 s 503 storm from the fake".
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.services import content_publish
from apps.interop.dialog.services import dialog_sweep
from apps.interop.models import ChangeStatus, DialogChange
from testing.fakedialog import Fault
from testing.pushworker import Worker, celery_broker, database_url
from tests.interop.dialog_support import closed_works, linked_organization
from tests.worker_support import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
STUCK_S = 30


def start_worker(fake_url: str, log: Path) -> Worker:
    worker = Worker(
        database_url=database_url(connection.settings_dict),
        broker_url=BROKER_URL,
        fcm_url="",
        credentials_file=Path(os.devnull),
        name="dialog",
        queues="default",
        pool="prefork",
        concurrency=1,
        log_path=log,
        log_level="INFO",
        env={
            "PUSH_BACKEND": "log",
            "FCM_CREDENTIALS_FILE": "",
            # The links' secrets were encrypted with this process's key.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DIALOG_URL": fake_url,
            "DIALOG_TIMEOUT_S": "5",
            "DIALOG_RETRY_BASE_S": "2",
            "DIALOG_STUCK_S": str(STUCK_S),
        },
    )
    return worker.start()


@pytest.fixture
def broker(django_db_setup, django_db_blocker) -> Iterator[object]:
    with django_db_blocker.unblock(), celery_broker(BROKER_URL) as app:
        yield app


@pytest.fixture
def worker(broker, transactional_db, fake_dialog, tmp_path) -> Iterator[Worker]:
    started = start_worker(fake_dialog.url, tmp_path / "worker.log")
    try:
        started.wait_ready(broker)
        yield started
    finally:
        started.stop()


def statuses() -> list[str]:
    return list(DialogChange.objects.order_by("id").values_list("status", flat=True))


def test_a_worker_killed_mid_request_loses_nothing_and_creates_nothing_twice(
    worker, broker, fake_dialog, tmp_path, settings
):
    settings.DIALOG_STUCK_S = STUCK_S  # this process runs the sweeper
    organization = linked_organization(slug="voirie")
    works = closed_works(organization)
    # DiaLog creates the regulation, then its answer hangs: the worker dies waiting for it.
    fake_dialog.script(Fault(201, hang_s=20, apply=True, method="POST"))

    content_publish(item=works)  # commits: the change is enqueued to the real worker

    wait_for(lambda: bool(fake_dialog.requests("POST")), worker, 30)
    assert statuses() == [ChangeStatus.SENDING]
    worker.kill9()
    second = start_worker(fake_dialog.url, tmp_path / "second.log")
    try:
        second.wait_ready(broker)
        swept = dialog_sweep(now=timezone.now() + timedelta(seconds=STUCK_S + 1))
        assert swept["recovered"] == 1
        wait_for(lambda: statuses() == [ChangeStatus.DONE], second, 30)
    finally:
        second.stop()

    change = DialogChange.objects.get()
    assert change.attempts == 2
    identifier = f"QRT-{works.pk}"
    assert fake_dialog.regulation(identifier).status == "published"
    assert len(fake_dialog.requests("POST")) == 1  # created once
    assert [(r.method, r.path) for r in fake_dialog.log[1:]] == [
        ("GET", "/api/organization/identifiers"),
        ("PUT", "/api/regulations"),
    ]


def test_a_30_s_storm_of_503_delays_each_change_and_sends_it_once(worker, fake_dialog):
    organization = linked_organization(slug="voirie")
    fake_dialog.storm(503, 30)
    started = time.monotonic()
    works = [closed_works(organization, title_fr=f"Rue {n}") for n in range(3)]
    for item in works:
        content_publish(item=item)

    wait_for(lambda: statuses() == [ChangeStatus.DONE] * 3, worker, 150)

    assert time.monotonic() - started >= 30
    for item in works:
        assert fake_dialog.regulation(f"QRT-{item.pk}").status == "published"
    assert len(fake_dialog.requests("POST", ok=True)) == 3  # each change created once
    assert len(fake_dialog.requests(ok=False)) >= 3  # the storm was met
    assert all(r.status == 503 for r in fake_dialog.requests(ok=False))
    assert max(DialogChange.objects.values_list("attempts", flat=True)) > 1
