"""Fixtures for push tests: the fake FCM server in process, a service account it trusts,
and FCM gateways wired to it through the real firebase-admin path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.notifications.gateway.configured import reset_gateway
from apps.notifications.gateway.fcm import FcmGateway
from testing.fakefcm import FakeFcm, ServiceAccount
from tests.staff import staff_login


@pytest.fixture(scope="session")
def fake_fcm_server() -> Iterator[FakeFcm]:
    """One fake FCM for the whole session, on a free port; use ``fake_fcm`` in tests."""
    with FakeFcm() as fake:
        yield fake


@pytest.fixture(scope="session")
def fcm_service_account(fake_fcm_server: FakeFcm, tmp_path_factory) -> ServiceAccount:
    """A throwaway service-account JSON whose token_uri is the fake and whose key it trusts."""
    path: Path = tmp_path_factory.mktemp("fcm") / "service-account.json"
    return fake_fcm_server.service_account(path)


@pytest.fixture
def fake_fcm(fake_fcm_server: FakeFcm) -> Iterator[FakeFcm]:
    """The fake with no faults and zeroed counters, reset again after the test."""
    fake_fcm_server.reset()
    yield fake_fcm_server
    fake_fcm_server.reset()


@pytest.fixture
def fcm_gateway(fake_fcm: FakeFcm, fcm_service_account: ServiceAccount) -> Iterator[FcmGateway]:
    """A fresh gateway (its own app, loop, client and token) sending to the fake."""
    gateway = FcmGateway(credentials_file=fcm_service_account.path, endpoint=fake_fcm.url)
    yield gateway
    gateway.close()


@pytest.fixture
def fcm_settings(settings, fake_fcm: FakeFcm, fcm_service_account: ServiceAccount):
    """Settings that make ``get_gateway()`` return an FCM gateway wired to the fake."""
    settings.PUSH_BACKEND = "fcm"
    settings.FCM_CREDENTIALS_FILE = str(fcm_service_account.path)
    settings.FCM_ENDPOINT = fake_fcm.url
    yield settings
    reset_gateway()


@pytest.fixture
def log_backend(settings):
    """The log push backend, emptied: ``get_gateway().records()`` is what was "sent"."""
    from apps.notifications.gateway.configured import get_gateway

    settings.PUSH_BACKEND = "log"
    reset_gateway()
    get_gateway().clear()
    yield get_gateway()
    reset_gateway()


@pytest.fixture
def editor_client(client, city_editor):
    """The admin as the city's editor."""
    return staff_login(client, city_editor)


@pytest.fixture
def metropole_client(client, metropole_editor):
    """The admin as an editor of another organization (the metropole)."""
    return staff_login(client, metropole_editor)


@pytest.fixture
def superuser_client(client, superuser):
    return staff_login(client, superuser)
