"""Fixtures of the interop tests: the shared standards' files, which must be present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

STANDARDS = Path(settings.INTEROP_STANDARDS_DIR)


@pytest.fixture(scope="session", autouse=True)
def standards_dir() -> Path:
    """``../shared/standards`` (``INTEROP_STANDARDS_DIR``); failing, not skipping, if missing."""
    if not (STANDARDS / "wzdx-4.2").is_dir():
        pytest.fail(f"The shared standards files are missing: expected them in {STANDARDS}")
    return STANDARDS


def wzdx_definitions() -> dict:
    path = STANDARDS / "wzdx-4.2/schemas/RoadEventFeature.json"
    return json.loads(path.read_text())["definitions"]


@pytest.fixture
def fake_openagenda():
    """A running fake OpenAgenda v3 server (testing/fakeopenagenda.py)."""
    from testing.fakeopenagenda import FakeOpenAgenda

    server = FakeOpenAgenda(STANDARDS).start()
    yield server
    server.stop()


@pytest.fixture
def fake_geocoder():
    """A running fake BAN-compatible geocoder (testing/fakegeocoder.py)."""
    from testing.fakegeocoder import FakeGeocoder

    server = FakeGeocoder().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_dialog_server():
    """The fake DiaLog (``testing.fakedialog``), one per session, served from a thread."""
    from testing.fakedialog import FakeDialog

    fake = FakeDialog().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_dialog(fake_dialog_server, settings):
    """The fake DiaLog emptied, with ``DIALOG_URL`` pointing at it and a short timeout."""
    fake_dialog_server.reset()
    settings.DIALOG_URL = fake_dialog_server.url
    settings.DIALOG_TIMEOUT_S = 1.0
    yield fake_dialog_server
    fake_dialog_server.reset()
