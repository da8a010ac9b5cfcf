"""A bad FCM credentials file, through the real firebase-admin path and the sweeper: garbage,
missing, or a key the token endpoint rejects. Nothing is lost, nothing is retried forever.

The pipeline runs in process as a worker and beat would run it: publishing creates the
deliveries, ``send_batch`` runs eagerly on commit, and a failing task is recorded, not raised
(``task_eager_propagates`` off, like a real worker that logs the failure and goes on). Each
round moves the clock past the sweeper's thresholds and the retry backoff, then runs the
sweeper, which re-enqueues what it takes back.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.core.services import content_publish
from apps.notifications import services
from apps.notifications.gateway.configured import reset_gateway
from apps.notifications.models import Delivery, DeliveryStatus, Reason
from apps.notifications.services import AUTH_RETRY_S
from testing.fakefcm import FakeFcm
from testing.fakefcm.credentials import make_service_account
from tests.factories import CategoryFactory, WorksFactory
from tests.notifications.helpers import phone
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

MAX_ATTEMPTS = 3
PHONES = 4


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeFcm]:
    with FakeFcm() as server:
        yield server


@pytest.fixture
def eager_worker() -> Iterator[None]:
    """Eager tasks that fail are logged and dropped, as a worker does (not raised)."""
    from backend.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


@pytest.fixture
def fcm(settings, fake: FakeFcm, eager_worker) -> Iterator[object]:
    fake.reset(access_tokens=True)
    settings.PUSH_BACKEND = "fcm"
    settings.FCM_ENDPOINT = fake.url
    settings.NOTIFY_MAX_ATTEMPTS = MAX_ATTEMPTS
    reset_gateway()
    yield settings
    reset_gateway()


def garbage_file(tmp_path: Path) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text("<html>not a service account</html>", encoding="utf-8")
    return path


def half_a_key_file(tmp_path: Path, fake: FakeFcm) -> Path:
    """A service-account JSON whose private key was cut short (a bad copy and paste)."""
    account = make_service_account(token_uri=fake.token_uri)
    key = account.info["private_key"]
    info = {**account.info, "private_key": key[:300] + key[600:]}
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def rejected_key_file(tmp_path: Path, fake: FakeFcm) -> Path:
    """A well-formed service account whose key the token endpoint does not know."""
    account = make_service_account(tmp_path / "service-account.json", token_uri=fake.token_uri)
    assert account.path is not None
    return account.path


def publish_to_phones(django_capture_on_commit_callbacks, **works_fields) -> list[int]:
    mobility = CategoryFactory(slug="mobilite")
    for _ in range(PHONES):
        phone(follows=[mobility])
    works = WorksFactory(category=mobility, notify=True, **works_fields)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)  # dispatch → send_batch, eagerly
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == PHONES
    return ids


def sweeper_rounds(django_capture_on_commit_callbacks, rounds: int) -> None:
    """Beat's sweeper, ``rounds`` times, each after the backoff and stuck thresholds passed."""
    step = timedelta(seconds=AUTH_RETRY_S + 600)
    for n in range(1, rounds + 1):
        with (
            time_machine.travel(timezone.now() + n * step, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.deliveries_sweep()


def rows() -> list[Delivery]:
    return list(Delivery.objects.order_by("pk"))


@pytest.mark.parametrize("bad_file", ["garbage", "missing", "half_a_key"])
def test_sweeper_fails_deliveries_after_the_limit_when_the_credentials_file_is_bad(
    fcm, fake, tmp_path, bad_file, django_capture_on_commit_callbacks, caplog
):
    path = {
        "garbage": lambda: garbage_file(tmp_path),
        "missing": lambda: tmp_path / "nowhere.json",
        "half_a_key": lambda: half_a_key_file(tmp_path, fake),
    }[bad_file]()
    fcm.FCM_CREDENTIALS_FILE = str(path)

    with caplog.at_level(logging.ERROR):
        publish_to_phones(django_capture_on_commit_callbacks)
        sweeper_rounds(django_capture_on_commit_callbacks, rounds=MAX_ATTEMPTS + 5)

    assert [(r.status, r.reason, r.attempts) for r in rows()] == [
        (DeliveryStatus.FAILED, Reason.AUTH_ERROR, MAX_ATTEMPTS)
    ] * PHONES
    assert {r.error_code for r in rows()} == {"CONFIGURATION"}
    assert fake.recorder.sent == 0
    # The alarm: an ERROR naming the file, at each failed batch.
    alarms = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("FCM_CREDENTIALS_FILE" in r.getMessage() for r in alarms)


def test_a_bad_credentials_file_alarms_once_per_failed_batch(
    fcm, tmp_path, django_capture_on_commit_callbacks, caplog
):
    fcm.FCM_CREDENTIALS_FILE = str(garbage_file(tmp_path))
    with caplog.at_level(logging.ERROR):
        publish_to_phones(django_capture_on_commit_callbacks)  # one batch
    alarms = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(alarms) == 1
    assert "FCM_CREDENTIALS_FILE" in alarms[0].getMessage()


def test_a_bad_credentials_file_is_retried_with_backoff_under_the_limit(
    fcm, tmp_path, django_capture_on_commit_callbacks
):
    fcm.FCM_CREDENTIALS_FILE = str(garbage_file(tmp_path))
    before = timezone.now()

    publish_to_phones(django_capture_on_commit_callbacks)

    for row in rows():
        assert (row.status, row.attempts, row.error_code) == (
            DeliveryStatus.PENDING,
            1,
            "auth:CONFIGURATION",
        )
        assert row.not_before >= before + timedelta(seconds=AUTH_RETRY_S)
        assert row.reason == ""


def test_deliveries_recover_once_the_credentials_file_is_fixed(
    fcm, fake, tmp_path, django_capture_on_commit_callbacks
):
    fcm.FCM_CREDENTIALS_FILE = str(garbage_file(tmp_path))
    publish_to_phones(django_capture_on_commit_callbacks)
    fixed = fake.service_account(tmp_path / "fixed.json")
    fcm.FCM_CREDENTIALS_FILE = str(fixed.path)

    sweeper_rounds(django_capture_on_commit_callbacks, rounds=1)

    assert [(r.status, r.attempts) for r in rows()] == [(DeliveryStatus.SENT, 2)] * PHONES
    assert fake.recorder.sent == PHONES


def test_a_key_the_token_endpoint_rejects_fails_after_the_limit_and_alarms(
    fcm, fake, tmp_path, django_capture_on_commit_callbacks, caplog
):
    fcm.FCM_CREDENTIALS_FILE = str(rejected_key_file(tmp_path, fake))

    with caplog.at_level(logging.ERROR):
        publish_to_phones(django_capture_on_commit_callbacks)
        first = rows()
        sweeper_rounds(django_capture_on_commit_callbacks, rounds=MAX_ATTEMPTS + 5)

    # Under the limit: kept, retried later (the tokens are not blamed).
    assert {(r.status, r.attempts) for r in first} == {(DeliveryStatus.PENDING, 1)}
    assert [(r.status, r.reason, r.attempts) for r in rows()] == [
        (DeliveryStatus.FAILED, Reason.AUTH_ERROR, MAX_ATTEMPTS)
    ] * PHONES
    assert fake.recorder.token_failures >= MAX_ATTEMPTS
    assert fake.recorder.sent == 0
    assert any("push authentication failed" in r.getMessage() for r in caplog.records)
    assert all(d.push_token_active for d in (r.device for r in rows()))


def test_sweeper_fails_a_stuck_sending_row_that_used_its_last_attempt(
    fcm, fake, django_capture_on_commit_callbacks
):
    account = fake.service_account(Path(fcm.MEDIA_ROOT).parent / "sweeper-sa.json")
    fcm.FCM_CREDENTIALS_FILE = str(account.path)
    ids = publish_to_phones(django_capture_on_commit_callbacks)
    # A worker claimed these on their last attempt, then died before sending.
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.SENDING,
        attempts=MAX_ATTEMPTS,
        claimed_at=timezone.now(),
        sent_at=None,
    )
    sent_before = fake.recorder.sent

    sweeper_rounds(django_capture_on_commit_callbacks, rounds=2)

    assert [(r.status, r.reason, r.attempts) for r in rows()] == [
        (DeliveryStatus.FAILED, Reason.RETRIES_EXHAUSTED, MAX_ATTEMPTS)
    ] * PHONES
    assert fake.recorder.sent == sent_before


def banner(client) -> str | None:
    html = client.get(reverse("admin:index")).content.decode()
    found = re.search(r'<li class="error" id="push-auth">(.*?)</li>', html, re.S)
    return " ".join(found.group(1).split()) if found else None


def test_staff_see_the_alarm_while_fcm_refuses_our_credentials(
    fcm, fake, tmp_path, client, city, city_editor, django_capture_on_commit_callbacks
):
    staff_login(client, city_editor)
    assert banner(client) is None
    fcm.FCM_CREDENTIALS_FILE = str(garbage_file(tmp_path))

    publish_to_phones(django_capture_on_commit_callbacks, organization=city)

    alarm = banner(client)
    assert alarm is not None
    # No count: the banner is an alarm, and a count of devices would bypass the disclosure control.
    assert alarm.startswith("Des envois de notification sont refusés et attendent une nouvelle")
    assert "identifiants du serveur" in alarm
    # Fixed: the next round sends them, and the alarm goes away.
    fcm.FCM_CREDENTIALS_FILE = str(fake.service_account(tmp_path / "fixed.json").path)
    sweeper_rounds(django_capture_on_commit_callbacks, rounds=1)
    assert banner(client) is None


def test_other_organizations_do_not_see_the_citys_refused_pushes(
    fcm, tmp_path, client, city, metropole_editor, django_capture_on_commit_callbacks
):
    fcm.FCM_CREDENTIALS_FILE = str(garbage_file(tmp_path))
    publish_to_phones(django_capture_on_commit_callbacks, organization=city)
    staff_login(client, metropole_editor)

    assert banner(client) is None
