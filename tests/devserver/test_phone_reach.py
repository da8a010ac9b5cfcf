"""A phone on another address reaches `make run HOST=0.0.0.0` and gets URLs it can open.

The "phone" is a client on a second loopback address (127.0.0.3) connecting to another one
(127.0.0.2): a server bound to 127.0.0.1 only (the old `make run`) refuses both. The Android
emulator reaches its host as 10.0.2.2: its requests arrive with `Host: 10.0.2.2:PORT`.
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow

PHONE_ADDRESS = "127.0.0.3"
SERVER_ADDRESS = "127.0.0.2"


def phone() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=PHONE_ADDRESS), timeout=30)


def test_a_phone_on_another_address_gets_urls_on_the_host_and_port_it_used(demo_server):
    base = demo_server.url(SERVER_ADDRESS)
    with phone() as client:
        listing = client.get(f"{base}/api/v1/events/", params={"page_size": 2})
        assert listing.status_code == 200
        body = listing.json()
        assert body["next"].startswith(f"{base}/api/v1/events/?")
        for item in body["results"]:
            assert item["url"] == f"{base}/api/v1/events/{item['id']}/"
        detail = client.get(body["results"][0]["url"])
        assert detail.status_code == 200
        ical = client.get(detail.json()["ical_url"])
        assert ical.status_code == 200 and ical.text.startswith("BEGIN:VCALENDAR")


def test_the_android_emulator_host_name_is_served_with_its_own_urls(demo_server):
    emulator = f"10.0.2.2:{demo_server.port}"
    with phone() as client:
        response = client.get(
            f"{demo_server.url(SERVER_ADDRESS)}/api/v1/news/",
            params={"page_size": 1},
            headers={"Host": emulator},
        )
    assert response.status_code == 200  # no DisallowedHost
    item = response.json()["results"][0]
    assert item["url"] == f"http://{emulator}/api/v1/news/{item['id']}/"


def test_the_phone_registers_repeatedly_under_the_relaxed_debug_throttle(demo_server):
    # 25 installs from one address: beyond the production limit (20/hour), within make run's.
    with phone() as client:
        statuses = [
            client.post(
                f"{demo_server.url(SERVER_ADDRESS)}/api/v1/devices/", json={"platform": "android"}
            ).status_code
            for _ in range(25)
        ]
    assert statuses == [201] * 25
