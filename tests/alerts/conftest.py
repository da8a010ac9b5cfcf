"""Fixtures of the alerts tests: the CAP 1.2 schema from the shared standards (must be there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

CAP_XSD = Path(settings.INTEROP_STANDARDS_DIR) / "cap-1.2" / "cap12.xsd"


@pytest.fixture(scope="session", autouse=True)
def cap_schema_present() -> Path:
    """Failing, not skipping, when ``../shared/standards/cap-1.2/cap12.xsd`` is missing."""
    if not CAP_XSD.is_file():
        pytest.fail(f"The CAP 1.2 schema is missing: expected {CAP_XSD} (INTEROP_STANDARDS_DIR)")
    return CAP_XSD


# The push fixtures of tests/notifications (fake FCM in process, its service account, gateway
# settings), shared by the drill's end-to-end test and the payload tests.
from tests.notifications.conftest import (  # noqa: E402, F401
    fake_fcm,
    fake_fcm_server,
    fcm_gateway,
    fcm_service_account,
    fcm_settings,
    log_backend,
)
