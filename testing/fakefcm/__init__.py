"""A fast fake Firebase Cloud Messaging server for tests and benchmarks (issue 5, item 6).

In process (tests)::

    with FakeFcm() as fake:
        account = fake.service_account(tmp_path / "sa.json")   # token_uri -> fake, key trusted
        fake.set_faults(unregistered=["tok-1"], latency_ms=5)
        ...                                                    # FCM_ENDPOINT = fake.url
        fake.recorder.delivered["tok-2"]

Out of process (benchmarks): ``python -m testing.fakefcm --port 8765 --service-account sa.json``
then ``GET /_stats``, ``POST /_faults``, ``POST /_reset`` (see ``testing.fakefcm.server``).
"""

from testing.fakefcm.credentials import (
    ServiceAccount,
    load_service_account,
    make_service_account,
    write_service_account,
)
from testing.fakefcm.server import FakeFcm
from testing.fakefcm.state import TOKEN_FAULTS, Faults, Recorder

__all__ = [
    "TOKEN_FAULTS",
    "FakeFcm",
    "Faults",
    "Recorder",
    "ServiceAccount",
    "load_service_account",
    "make_service_account",
    "write_service_account",
]
