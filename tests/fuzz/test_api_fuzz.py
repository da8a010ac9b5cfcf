"""Deep fuzzing of the whole API schema with schemathesis (``make fuzz``, not ``make test``).

The CI smoke test (tests/core/test_api_schemathesis.py) sends a dozen examples per operation;
this run sends ``FUZZ_EXAMPLES`` per operation and generation mode (valid and invalid
requests), authenticated wherever the schema says an operation takes a device token or an
organization API key, and counts every request through a WSGI recorder: the number sent, the
5xx seen (target 0) and the slowest (target under 2 s), printed at the end and written to
``var/fuzz-report.json``. Skipped unless ``FUZZ_EXAMPLES`` is set.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.core.test_api_schemathesis import APP, city_data, wsgi_app  # noqa: F401 (fixtures)
from tests.fuzz import conftest

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
pytestmark = pytest.mark.skipif(not EXAMPLES, reason="set FUZZ_EXAMPLES (make fuzz)")

conftest.RECORDER = conftest.RequestRecorder(APP)
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("FUZZ_SEED", "20261207")),
        "generation": {"mode": "all", "max-examples": max(EXAMPLES, 1)},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", conftest.RECORDER, config=CONFIG)


@pytest.fixture
def device_token(db):
    from tests.residents.factories import make_resident

    return make_resident(personalization_consent=True).token


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None, database=None)
def test_api_fuzz_no_server_error(case, wsgi_app, city_data, device_token):  # noqa: F811
    security = case.operation.definition.raw.get("security", [])
    headers = {}
    if {"organizationApiKey": []} in security:
        headers["Authorization"] = f"Api-Key {city_data}"
    elif {"deviceToken": []} in security or {"optionalDeviceToken": []} in security:
        headers["Authorization"] = f"Bearer {device_token}"
    case.call_and_validate(headers=headers)
