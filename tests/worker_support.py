"""A real push worker for a test module, and waiting on what it does (shared by the worker tests).

``push_worker_fixtures(BROKER_URL, env=…)`` returns the module's two fixtures, to be bound to
the names ``push_worker`` (one worker per module, on the pytest database, the fake FCM and
Redis) and ``worker`` (that worker with empty queues, committed test data, failing the test if
the worker died).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from testing.pushworker import Worker, celery_broker, database_url


def push_worker_fixtures(broker_url: str, *, env: dict[str, str] | None = None) -> tuple[Any, Any]:
    @pytest.fixture(scope="module")
    def push_worker(
        django_db_setup, django_db_blocker, fake_fcm_server, fcm_service_account, tmp_path_factory
    ) -> Iterator[Worker]:
        """One worker for the module (it starts in a few seconds), on the pytest database."""
        log = tmp_path_factory.mktemp("worker") / "worker.log"
        with django_db_blocker.unblock(), celery_broker(broker_url) as app:
            worker = Worker(
                database_url=database_url(connection.settings_dict),
                broker_url=broker_url,
                fcm_url=fake_fcm_server.url,
                credentials_file=fcm_service_account.path,
                pool="prefork",
                concurrency=1,
                log_path=log,
                log_level="INFO",
                env=dict(env or {}),
            )
            worker.start()
            try:
                worker.wait_ready(app)
                yield worker
            finally:
                worker.stop()

    @pytest.fixture
    def worker(push_worker, transactional_db, fake_fcm) -> Iterator[Worker]:
        """The module's worker with empty queues, a reset fake and committed test data."""
        from backend.celery import app

        app.control.purge()
        yield push_worker
        if not push_worker.alive:
            pytest.fail(f"the worker died:\n{push_worker.log_tail()}")

    return push_worker, worker


def wait_for(
    condition: Callable[[], bool], worker: Worker, timeout_s: float = 30.0, *, poll_s: float = 0.1
) -> None:
    """Until ``condition()`` holds; past ``timeout_s`` the test fails with the worker's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s} s; worker log:\n{worker.log_tail()}")
