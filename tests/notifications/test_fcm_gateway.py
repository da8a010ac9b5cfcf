"""The FCM gateway on the real firebase-admin path (JWT, token exchange, send) against the fake."""

from __future__ import annotations

import os
import threading
import time

import pytest

from apps.core.models import Urgency
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.gateway.fcm import FcmGateway, payload_size
from apps.notifications.gateway.push import BatchTooLargeError, Outcome, OutgoingPush


def push(token: str, **overrides) -> OutgoingPush:
    fields = {
        "title": "Travaux rue Victor-Hugo",
        "body": "Chaussée fermée du 3 au 5 mars, déviation par le quai.",
        "urgency": Urgency.IMPORTANT,
        "data": {"type": "works", "id": "42"},
        "tag": "works-42",
        "ttl_s": 3600,
    }
    fields.update(overrides)
    return OutgoingPush(token=token, **fields)


def test_fcm_gateway_sends_and_returns_message_ids(fcm_gateway, fake_fcm):
    results = fcm_gateway.send([push("tok-a"), push("tok-b")])

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert [r.token for r in results] == ["tok-a", "tok-b"]
    names = {r.message_id for r in results}
    assert all(name.startswith("projects/quartier-test/messages/") for name in names)
    assert len(names) == 2
    assert fake_fcm.recorder.delivered == {"tok-a": 1, "tok-b": 1}


def test_fcm_gateway_exchanges_the_jwt_once_then_reuses_the_token(fcm_gateway, fake_fcm):
    for round_ in range(3):
        results = fcm_gateway.send([push(f"tok-{round_}-{i}") for i in range(20)])
        assert {r.outcome for r in results} == {Outcome.SENT}

    # One verified RS256 grant at the service account's token_uri, then 60 bearer requests.
    assert fake_fcm.recorder.token_requests == 1
    assert fake_fcm.recorder.token_failures == 0
    assert fake_fcm.recorder.unauthorized == 0
    assert fake_fcm.recorder.sent == 60
    assert fcm_gateway.token_exchanges == 1


@pytest.mark.parametrize(
    ("urgency", "priority", "channel", "apns_priority", "level", "sound"),
    [
        (Urgency.INFO, "normal", "quartier_info", "5", "passive", None),
        (Urgency.IMPORTANT, "high", "quartier_important", "10", "active", "default"),
        (Urgency.ALERT, "high", "quartier_alert", "10", "time-sensitive", "default"),
    ],
)
def test_fcm_gateway_sets_android_and_apns_options_by_urgency(
    fcm_gateway, fake_fcm, urgency, priority, channel, apns_priority, level, sound
):
    before = time.time()
    fcm_gateway.send([push("tok-u", urgency=urgency, ttl_s=7200, language="en")])

    [received] = fake_fcm.messages
    message = received["message"]
    assert message["token"] == "tok-u"
    assert message["notification"] == {
        "title": "Travaux rue Victor-Hugo",
        "body": "Chaussée fermée du 3 au 5 mars, déviation par le quai.",
    }
    assert message["data"] == {"type": "works", "id": "42", "lang": "en"}
    android = message["android"]
    assert android["priority"] == priority
    assert android["ttl"] == "7200s"
    assert android["collapse_key"] == "works-42"
    assert android["notification"]["channel_id"] == channel
    assert android["notification"]["tag"] == "works-42"
    headers = message["apns"]["headers"]
    assert headers["apns-priority"] == apns_priority
    assert headers["apns-collapse-id"] == "works-42"
    assert before + 7200 - 1 <= int(headers["apns-expiration"]) <= time.time() + 7200 + 1
    aps = message["apns"]["payload"]["aps"]
    assert aps["interruption-level"] == level
    assert aps.get("sound") == sound
    assert aps["thread-id"] == "works-42"


def test_fcm_gateway_sends_no_collapse_key_without_a_tag(fcm_gateway, fake_fcm):
    fcm_gateway.send([push("tok-t", tag="")])

    message = fake_fcm.messages[0]["message"]
    assert "collapse_key" not in message["android"]
    assert "tag" not in message["android"]["notification"]
    assert "apns-collapse-id" not in message["apns"]["headers"]


def test_fcm_gateway_update_carries_the_same_tag_as_the_first_push(fcm_gateway, fake_fcm):
    fcm_gateway.send([push("tok-x", body="Travaux du 3 au 5 mars")])
    fcm_gateway.send([push("tok-x", body="Reportés au 10 mars")])

    first, update = (m["message"] for m in fake_fcm.messages)
    assert first["android"]["collapse_key"] == update["android"]["collapse_key"] == "works-42"
    assert first["apns"]["headers"]["apns-collapse-id"] == "works-42"
    assert update["apns"]["headers"]["apns-collapse-id"] == "works-42"
    assert update["notification"]["body"] == "Reportés au 10 mars"


def test_payload_size_is_the_size_of_the_body_fcm_receives(fcm_gateway, fake_fcm):
    pushes = [
        push("tok-s1"),
        push("tok-s2", title="Fête de la musique 🎶", body="Ünïcödé " * 40),
        push("tok-s3", data={"type": "events", "id": "7", "extra": "x" * 300}, tag=""),
    ]
    fcm_gateway.send(pushes)

    received = {m["token"]: m["bytes"] for m in fake_fcm.messages}
    assert received == {p.token: payload_size(p) for p in pushes}


def test_fcm_gateway_survives_many_sequential_calls_on_one_loop(fcm_gateway, fake_fcm):
    for call in range(40):
        results = fcm_gateway.send([push(f"tok-seq-{call}-{i}") for i in range(5)])
        assert {r.outcome for r in results} == {Outcome.SENT}, results[0].detail

    loops = [t for t in threading.enumerate() if t.name == f"fcm-loop-{os.getpid()}"]
    assert len(loops) == 1  # one long-lived loop, not one per call
    assert fake_fcm.recorder.sent == 200
    assert fake_fcm.recorder.token_requests == 1


def test_fcm_gateway_refuses_a_batch_over_500_and_sends_nothing(fcm_gateway, fake_fcm):
    with pytest.raises(BatchTooLargeError):
        fcm_gateway.send([push(f"tok-{i}") for i in range(501)])

    assert fake_fcm.recorder.requests == 0


def test_fcm_gateway_sends_a_full_batch_of_500(fcm_gateway, fake_fcm):
    results = fcm_gateway.send([push(f"tok-{i}") for i in range(500)])

    assert len(results) == 500
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert len(fake_fcm.recorder.delivered) == 500


def test_fcm_gateway_works_after_fork_in_a_child_process(fcm_gateway, fake_fcm):
    """Celery prefork: the parent used the gateway, the child must build its own loop/client."""
    assert fcm_gateway.send([push("tok-parent")])[0].outcome is Outcome.SENT

    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            results = fcm_gateway.send([push("tok-child-1"), push("tok-child-2")])
            ok = [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
            code = 0 if ok and fcm_gateway.token_exchanges == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert fake_fcm.recorder.delivered["tok-child-1"] == 1
    assert fake_fcm.recorder.delivered["tok-child-2"] == 1
    # The parent's gateway still works on its own loop afterwards.
    assert fcm_gateway.send([push("tok-parent-2")])[0].outcome is Outcome.SENT
    assert fake_fcm.recorder.token_requests == 2  # parent once, child once


def test_fcm_gateway_through_the_sdks_own_httpx_client(fake_fcm, fcm_service_account):
    """transport="httpx": the SDK's stock client gives the same results (slower; see bench)."""
    fake_fcm.set_faults(unregistered=["tok-dead"])
    gateway = FcmGateway(
        credentials_file=fcm_service_account.path, endpoint=fake_fcm.url, transport="httpx"
    )
    try:
        results = gateway.send([push("tok-ok"), push("tok-dead")])
    finally:
        gateway.close()

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.DEAD_TOKEN]
    assert fake_fcm.recorder.delivered == {"tok-ok": 1}


def test_get_gateway_returns_one_fcm_gateway_per_configuration(fcm_settings, fake_fcm):
    gateway = get_gateway()

    assert gateway.name == "fcm"
    assert get_gateway() is gateway
    assert gateway.send([push("tok-settings")])[0].outcome is Outcome.SENT
    assert fake_fcm.recorder.delivered == {"tok-settings": 1}
