"""The fake FCM server itself: it must refuse what FCM and Google's token endpoint refuse."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx
import jwt
import pytest

from testing.fakefcm import make_service_account
from testing.fakefcm.server import GOOGLE_TOKEN_AUDIENCE, JWT_GRANT_TYPE

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def assertion(account, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": account.client_email,
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": SCOPE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(
        payload,
        account.info["private_key"],
        algorithm="RS256",
        headers={"kid": account.key_id},
    )


def grant(fake, token: str) -> httpx.Response:
    return httpx.post(fake.token_uri, data={"grant_type": JWT_GRANT_TYPE, "assertion": token})


@pytest.fixture
def access_token(fake_fcm, fcm_service_account) -> str:
    response = grant(fake_fcm, assertion(fcm_service_account))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    return response.json()["access_token"]


def send(fake, token: str | None, body) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{fake.url}/v1/projects/quartier-test/messages:send"
    if isinstance(body, bytes):
        return httpx.post(url, content=body, headers=headers)
    return httpx.post(url, json=body, headers=headers)


def test_fake_token_endpoint_issues_a_token_for_a_valid_grant(fake_fcm, access_token):
    response = send(fake_fcm, access_token, {"message": {"token": "tok-1"}})

    assert response.status_code == 200
    assert response.json()["name"].startswith("projects/quartier-test/messages/")
    assert fake_fcm.recorder.token_requests == 1
    assert fake_fcm.recorder.delivered == {"tok-1": 1}


def test_fake_token_endpoint_verifies_the_signature(fake_fcm, fcm_service_account, tmp_path):
    forger = make_service_account(token_uri=fake_fcm.token_uri)  # another key, same kid/email
    forged_info = dict(forger.info, private_key_id=fcm_service_account.key_id)
    forged = type(forger)(info=forged_info, public_key_pem=forger.public_key_pem)
    forged_email = type(forger)(
        info=dict(forged_info, client_email=fcm_service_account.client_email),
        public_key_pem=forger.public_key_pem,
    )

    for token in (assertion(forged), assertion(forged_email)):
        response = grant(fake_fcm, token)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    assert fake_fcm.recorder.token_requests == 0
    assert fake_fcm.recorder.token_failures == 2


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "https://example.org/token"}, "invalid_grant"),
        ({"iss": "someone@else.iam.gserviceaccount.com"}, "invalid_grant"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200}, "invalid_grant"),
        ({"exp": int(time.time()) + 7200}, "invalid_grant"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope"),
    ],
)
def test_fake_token_endpoint_refuses_a_bad_assertion(fake_fcm, fcm_service_account, claims, error):
    response = grant(fake_fcm, assertion(fcm_service_account, **claims))

    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials", "assertion": "x"}, "unsupported_grant_type"),
        ({"grant_type": JWT_GRANT_TYPE}, "invalid_request"),
        ({"grant_type": JWT_GRANT_TYPE, "assertion": "not-a-jwt"}, "invalid_grant"),
    ],
)
def test_fake_token_endpoint_refuses_a_bad_form(fake_fcm, form, error):
    response = httpx.post(fake_fcm.token_uri, data=form)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_fake_send_requires_a_bearer_token_it_issued(fake_fcm):
    for token in (None, "ya29.made-up"):
        response = send(fake_fcm, token, {"message": {"token": "tok-1"}})
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert fake_fcm.recorder.unauthorized == 2
    assert fake_fcm.recorder.requests == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", ""),
        ({"msg": {}}, ""),
        ({"message": "tok"}, "message"),
        ({"message": {"token": "t", "tokn": "x"}}, "message"),
        ({"message": {"data": {"a": "b"}}}, "message"),
        ({"message": {"token": "t", "topic": "news"}}, "message"),
        ({"message": {"topic": "news"}}, "message.token"),
        ({"message": {"token": "t", "data": {"id": 42}}}, "message.data[0].value"),
        ({"message": {"token": "t", "android": {"ttl": "1 day"}}}, "message.android.ttl"),
        ({"message": {"token": "t", "android": {"ttl": "2419201s"}}}, "message.android.ttl"),
        (
            {"message": {"token": "t", "android": {"priority": "urgent"}}},
            "message.android.priority",
        ),
        (
            {"message": {"token": "t", "apns": {"headers": {"apns-priority": "7"}}}},
            "message.apns.headers[apns-priority]",
        ),
        ({"message": {"token": "t", "data": {"blob": "x" * 4100}}}, "message"),
    ],
)
def test_fake_send_refuses_a_malformed_message_like_fcm(fake_fcm, access_token, body, field):
    response = send(fake_fcm, access_token, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    fcm_error, bad_request = error["details"]
    assert fcm_error == {
        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
        "errorCode": "INVALID_ARGUMENT",
    }
    assert bad_request["fieldViolations"][0]["field"] == field
    assert fake_fcm.recorder.sent == 0


def test_fake_send_refuses_a_token_of_another_project(fake_fcm, access_token):
    response = httpx.post(
        f"{fake_fcm.url}/v1/projects/other/messages:send",
        json={"message": {"token": "t"}},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_fake_storm_answers_every_send_until_it_ends(fake_fcm, access_token):
    faults = httpx.post(
        f"{fake_fcm.url}/_faults",
        json={"storm": {"status": 503, "duration_s": 0.3, "retry_after_s": 4}},
    )
    assert faults.json()["storm"]["status"] == 503

    during = send(fake_fcm, access_token, {"message": {"token": "tok-1"}})
    time.sleep(0.35)
    after = send(fake_fcm, access_token, {"message": {"token": "tok-1"}})

    assert during.status_code == 503
    assert during.headers["Retry-After"] == "4"
    assert during.json()["error"]["details"][0]["errorCode"] == "UNAVAILABLE"
    assert after.status_code == 200
    stats = httpx.get(f"{fake_fcm.url}/_stats").json()
    assert stats["received"] == {"tok-1": 2}
    assert stats["delivered"] == {"tok-1": 1}
    assert stats["errors"] == {"UNAVAILABLE": 1}


def test_fake_latency_delays_answers(fake_fcm, access_token):
    fake_fcm.set_faults(latency_ms=200)
    started = time.monotonic()
    send(fake_fcm, access_token, {"message": {"token": "tok-1"}})
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    "faults",
    [
        {"unregistered": "tok-1"},
        {"unregistered": [1]},
        {"bogus": []},
        {"latency_ms": -1},
        {"storm": {"status": 404, "duration_s": 1}},
        {"storm": {"status": 503, "duration_s": 0}},
        {"storm": {"status": 503, "duration_s": 1, "retry_after_s": "soon"}},
        {"token_endpoint": "explode"},
        ["unregistered"],
    ],
)
def test_fake_control_refuses_bad_faults_and_changes_nothing(fake_fcm, faults):
    fake_fcm.set_faults(unregistered=["tok-kept"])

    response = httpx.post(f"{fake_fcm.url}/_faults", json=faults)

    assert response.status_code == 400
    assert "error" in response.json()
    assert httpx.get(f"{fake_fcm.url}/_faults").json()["unregistered"] == ["tok-kept"]


def test_fake_control_reset_and_stats_options(fake_fcm, access_token):
    send(fake_fcm, access_token, {"message": {"token": "tok-1", "data": {"k": "v"}}})

    stats = httpx.get(f"{fake_fcm.url}/_stats", params={"tokens": 0, "messages": 5}).json()
    assert "delivered" not in stats
    assert stats["messages"][0]["message"]["data"] == {"k": "v"}
    assert httpx.get(f"{fake_fcm.url}/_stats", params={"messages": "x"}).status_code == 400

    httpx.post(f"{fake_fcm.url}/_reset", params={"tokens": 1})

    assert httpx.get(f"{fake_fcm.url}/_stats").json()["sent"] == 0
    assert send(fake_fcm, access_token, {"message": {"token": "t"}}).status_code == 401


def test_fake_token_endpoint_faults(fake_fcm, fcm_service_account):
    fake_fcm.set_faults(token_endpoint="invalid_grant")
    assert grant(fake_fcm, assertion(fcm_service_account)).json()["error"] == "invalid_grant"

    fake_fcm.set_faults(token_endpoint="unavailable")
    assert grant(fake_fcm, assertion(fcm_service_account)).status_code == 503


def test_fake_serves_hundreds_of_concurrent_keep_alive_connections(fake_fcm, access_token):
    async def run() -> list[int]:
        url = f"{fake_fcm.url}/v1/projects/quartier-test/messages:send"
        headers = {"Authorization": f"Bearer {access_token}"}
        connector = aiohttp.TCPConnector(limit=300)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

            async def one(i: int) -> int:
                async with session.post(url, json={"message": {"token": f"c-{i % 300}"}}) as r:
                    await r.read()
                    return r.status

            statuses = await asyncio.gather(*(one(i) for i in range(900)))
            return statuses

    statuses = asyncio.run(run())

    assert statuses == [200] * 900
    assert len(fake_fcm.recorder.delivered) == 300
    assert set(fake_fcm.recorder.delivered.values()) == {3}


def test_fake_counts_retries_that_come_sooner_than_their_retry_after(fake_fcm, access_token):
    fake_fcm.storm(429, duration_s=0.5, retry_after_s=1)

    send(fake_fcm, access_token, {"message": {"token": "hasty"}})
    send(fake_fcm, access_token, {"message": {"token": "patient"}})
    again = send(fake_fcm, access_token, {"message": {"token": "hasty"}})  # at once: too soon
    time.sleep(1.05)
    waited = send(fake_fcm, access_token, {"message": {"token": "patient"}})

    assert again.status_code == 429 and waited.status_code == 200
    retry_after = httpx.get(f"{fake_fcm.url}/_stats").json()["retry_after"]
    assert (retry_after["checked"], retry_after["early"]) == (2, 1)
    assert [e["token"] for e in retry_after["early_examples"]] == ["hasty"]
    assert retry_after["early_examples"][0]["retry_after_s"] == 1
    assert retry_after["min_margin_s"] < 0
    assert retry_after["waiting"] == 1  # hasty was told again and has not come back
