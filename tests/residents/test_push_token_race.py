"""Two registrations racing for one push token: the unique index arbitrates, the last one wins."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.residents.models import Device
from apps.residents.services import device_register

TOKEN = "fcm-race-" + "r" * 60


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_push_token_leave_exactly_one_holder():
    first_claimed, release_first = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"], _token = device_register(platform="android", push_token=TOKEN)
                first_claimed.set()
                release_first.wait(timeout=10)  # hold the uncommitted claim
        finally:
            connection.close()

    def second() -> None:
        try:
            # Blocks on the unique index until "first" commits, fails once, then retries.
            results["second"], _token = device_register(platform="ios", push_token=TOKEN)
        except Exception as exc:  # surfaced by the assertion below
            results["error"] = exc
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert first_claimed.wait(timeout=10)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.5)  # let "second" reach the lock
    release_first.set()
    one.join(timeout=10)
    two.join(timeout=10)

    assert "error" not in results, results.get("error")
    assert list(Device.objects.filter(push_token=TOKEN).values_list("platform", flat=True)) == [
        "ios"
    ]
    assert Device.objects.count() == 2
