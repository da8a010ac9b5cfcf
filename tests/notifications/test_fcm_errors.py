"""Every FCM failure maps to its architecture.md §6 outcome: the real SDK against the fake."""

from __future__ import annotations

import socket

import pytest

from apps.core.models import Urgency
from apps.notifications.gateway.fcm import FcmGateway
from apps.notifications.gateway.push import Outcome, OutgoingPush
from testing.fakefcm import make_service_account, write_service_account


def push(token: str, **overrides) -> OutgoingPush:
    fields = {"title": "Coupure d'eau", "body": "Rue Pasteur, de 9 h à 12 h."}
    fields.update(overrides)
    return OutgoingPush(token=token, urgency=Urgency.ALERT, tag="news-9", **fields)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    ("fault", "outcome", "error_code"),
    [
        ("unregistered", Outcome.DEAD_TOKEN, "UNREGISTERED"),
        ("sender_id_mismatch", Outcome.DEAD_TOKEN, "SENDER_ID_MISMATCH"),
        ("invalid_token", Outcome.DEAD_TOKEN, "INVALID_ARGUMENT"),
        ("invalid_token_bare", Outcome.DEAD_TOKEN, "INVALID_ARGUMENT"),
        ("invalid_payload", Outcome.INVALID_PAYLOAD, "INVALID_ARGUMENT"),
        ("third_party_auth", Outcome.AUTH_ERROR, "THIRD_PARTY_AUTH_ERROR"),
        ("quota_exceeded", Outcome.QUOTA, "QUOTA_EXCEEDED"),
        ("unavailable", Outcome.TRANSIENT, "UNAVAILABLE"),
        ("internal", Outcome.TRANSIENT, "INTERNAL"),
    ],
)
def test_fcm_error_maps_to_outcome(
    fake_fcm, fcm_service_account, transport, fault, outcome, error_code
):
    fake_fcm.set_faults(**{fault: ["tok-bad"]})
    gateway = FcmGateway(
        credentials_file=fcm_service_account.path, endpoint=fake_fcm.url, transport=transport
    )
    try:
        ok_before, bad, ok_after = gateway.send([push("tok-1"), push("tok-bad"), push("tok-2")])
    finally:
        gateway.close()

    assert (ok_before.outcome, ok_after.outcome) == (Outcome.SENT, Outcome.SENT)
    assert bad.token == "tok-bad"
    assert bad.outcome is outcome
    assert bad.error_code == error_code
    assert bad.message_id is None
    assert bad.deactivate_token is (outcome is Outcome.DEAD_TOKEN)
    assert fake_fcm.recorder.delivered == {"tok-1": 1, "tok-2": 1}


def test_invalid_payload_never_deactivates_the_token(fcm_gateway, fake_fcm):
    fake_fcm.set_faults(invalid_payload=["tok-fine"])

    [result] = fcm_gateway.send([push("tok-fine")])

    assert result.outcome is Outcome.INVALID_PAYLOAD
    assert not result.deactivate_token
    assert "message.data" in result.detail


def test_quota_exceeded_surfaces_retry_after(fcm_gateway, fake_fcm):
    fake_fcm.storm(429, duration_s=30, retry_after_s=17)

    results = fcm_gateway.send([push(f"tok-{i}") for i in range(5)])

    assert {r.outcome for r in results} == {Outcome.QUOTA}
    assert {r.retry_after_s for r in results} == {17.0}
    assert fake_fcm.recorder.requests == 5  # 429 is not retried inside the call
    assert fake_fcm.recorder.sent == 0


def test_quota_exceeded_without_retry_after_leaves_it_to_the_policy(fcm_gateway, fake_fcm):
    fake_fcm.storm(429, duration_s=30)

    [result] = fcm_gateway.send([push("tok-q")])

    assert result.outcome is Outcome.QUOTA
    assert result.retry_after_s is None  # push.retry_delay_s then waits 60 s


def test_503_storm_is_transient_returns_at_once_and_carries_retry_after(fcm_gateway, fake_fcm):
    fake_fcm.storm(503, duration_s=30, retry_after_s=8)

    results = fcm_gateway.send([push(f"tok-{i}") for i in range(10)])

    assert {r.outcome for r in results} == {Outcome.TRANSIENT}
    assert {r.error_code for r in results} == {"UNAVAILABLE"}
    assert {r.retry_after_s for r in results} == {8.0}
    assert all(r.retryable for r in results)
    # One attempt per message: the SDK's in-call retries (0+1+2+4 s of sleep) are off.
    assert fake_fcm.recorder.requests == 10


def test_storm_over_then_the_same_pushes_go_through(fcm_gateway, fake_fcm):
    fake_fcm.storm(503, duration_s=30)
    assert {r.outcome for r in fcm_gateway.send([push("tok-s")])} == {Outcome.TRANSIENT}

    fake_fcm.set_faults(storm=None)

    assert fcm_gateway.send([push("tok-s")])[0].outcome is Outcome.SENT
    assert fake_fcm.recorder.delivered == {"tok-s": 1}
    assert fake_fcm.recorder.received == {"tok-s": 2}


def test_timeout_is_transient(fake_fcm, fcm_service_account):
    fake_fcm.set_faults(latency_ms=1500)
    gateway = FcmGateway(
        credentials_file=fcm_service_account.path, endpoint=fake_fcm.url, timeout_s=0.5
    )
    try:
        [result] = gateway.send([push("tok-slow")])
    finally:
        gateway.close()

    assert result.outcome is Outcome.TRANSIENT
    assert result.error_code == "DEADLINE_EXCEEDED"


def test_unreachable_endpoint_is_transient(fake_fcm, fcm_service_account):
    gateway = FcmGateway(
        credentials_file=fcm_service_account.path, endpoint=f"http://127.0.0.1:{free_port()}"
    )
    try:
        [result] = gateway.send([push("tok-nowhere")])
    finally:
        gateway.close()

    assert result.outcome is Outcome.TRANSIENT
    # httpx-aiohttp reports a refused connection as a connect timeout; httpx as ConnectError.
    assert result.error_code in ("DEADLINE_EXCEEDED", "UNAVAILABLE")


def test_untrusted_service_account_key_is_an_auth_error(fake_fcm, tmp_path):
    """Our own credential failure: the token endpoint refuses the JWT (invalid_grant)."""
    stranger = make_service_account(tmp_path / "stranger.json", token_uri=fake_fcm.token_uri)
    gateway = FcmGateway(credentials_file=stranger.path, endpoint=fake_fcm.url)
    try:
        results = gateway.send([push("tok-1"), push("tok-2")])
    finally:
        gateway.close()

    assert {r.outcome for r in results} == {Outcome.AUTH_ERROR}
    assert "invalid_grant" in results[0].detail
    assert not any(r.deactivate_token for r in results)
    assert fake_fcm.recorder.token_failures == 1
    assert fake_fcm.recorder.requests == 0  # nothing was sent without a token


def test_unreachable_token_endpoint_is_transient(fake_fcm, fcm_service_account, tmp_path):
    info = dict(fcm_service_account.info, token_uri=f"http://127.0.0.1:{free_port()}/token")
    account = write_service_account(
        type(fcm_service_account)(info=info, public_key_pem=fcm_service_account.public_key_pem),
        tmp_path / "sa.json",
    )
    gateway = FcmGateway(credentials_file=account.path, endpoint=fake_fcm.url)
    try:
        [result] = gateway.send([push("tok-1")])
    finally:
        gateway.close()

    assert result.outcome is Outcome.TRANSIENT
    assert result.error_code == "TransportError"


def test_access_token_for_another_project_is_an_auth_error(fake_fcm, fcm_service_account, tmp_path):
    info = dict(fcm_service_account.info, project_id="someone-else")
    account = write_service_account(
        type(fcm_service_account)(info=info, public_key_pem=fcm_service_account.public_key_pem),
        tmp_path / "sa.json",
    )
    gateway = FcmGateway(credentials_file=account.path, endpoint=fake_fcm.url)
    try:
        [result] = gateway.send([push("tok-1")])
    finally:
        gateway.close()

    assert result.outcome is Outcome.AUTH_ERROR
    assert result.error_code == "PERMISSION_DENIED"


def test_third_party_auth_errors_cost_one_token_exchange(fcm_gateway, fake_fcm):
    """FCM answers 401 for APNs credential errors; the SDK refreshes twice per 401 answer."""
    tokens = [f"tok-ios-{i}" for i in range(30)]
    fake_fcm.set_faults(third_party_auth=tokens)

    results = fcm_gateway.send([push(token) for token in tokens])

    assert {r.outcome for r in results} == {Outcome.AUTH_ERROR}
    assert fake_fcm.recorder.errors["THIRD_PARTY_AUTH_ERROR"] == 90  # 1 + 2 refresh retries
    assert fake_fcm.recorder.token_requests == 1  # not 61


def test_revoked_access_token_is_replaced_after_the_refresh_interval(fake_fcm, fcm_service_account):
    gateway = FcmGateway(
        credentials_file=fcm_service_account.path, endpoint=fake_fcm.url, min_refresh_s=0
    )
    try:
        assert gateway.send([push("tok-1")])[0].outcome is Outcome.SENT
        fake_fcm.reset(access_tokens=True)  # the fake forgets every token it issued

        [result] = gateway.send([push("tok-2")])
    finally:
        gateway.close()

    assert result.outcome is Outcome.SENT
    assert fake_fcm.recorder.unauthorized == 1
    assert fake_fcm.recorder.token_requests == 1  # counted since the reset


def test_revoked_access_token_within_the_refresh_interval_is_an_auth_error(fcm_gateway, fake_fcm):
    assert fcm_gateway.send([push("tok-1")])[0].outcome is Outcome.SENT
    fake_fcm.reset(access_tokens=True)

    [result] = fcm_gateway.send([push("tok-2")])

    assert result.outcome is Outcome.AUTH_ERROR
    assert result.error_code == "UNAUTHENTICATED"
    assert fake_fcm.recorder.token_requests == 0


def test_payload_over_4096_bytes_is_invalid_and_not_sent(fcm_gateway, fake_fcm):
    big = push("tok-big", body="é" * 2100)  # 4,200 bytes of UTF-8 in the body alone

    small, too_big = fcm_gateway.send([push("tok-small"), big])

    assert small.outcome is Outcome.SENT
    assert too_big.outcome is Outcome.INVALID_PAYLOAD
    assert too_big.error_code == "PAYLOAD_TOO_LARGE"
    assert not too_big.deactivate_token
    assert fake_fcm.recorder.received == {"tok-small": 1}


def test_message_the_sdk_refuses_is_invalid_payload_and_the_rest_is_sent(fcm_gateway, fake_fcm):
    """A bad message must not sink its batch (send_each_async validates all messages first)."""
    bad = push("tok-bad", ttl_s=60)
    object.__setattr__(bad, "ttl_s", -1)  # slipped past validation: the SDK raises ValueError

    good, refused = fcm_gateway.send([push("tok-good"), bad])

    assert good.outcome is Outcome.SENT
    assert refused.outcome is Outcome.INVALID_PAYLOAD
    assert fake_fcm.recorder.received == {"tok-good": 1}
