"""The neutral push API: input checks, retry delays, backend selection, the log backend."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.models import Urgency
from apps.notifications.gateway.configured import get_gateway, reset_gateway
from apps.notifications.gateway.credentials import FcmConfigurationError
from apps.notifications.gateway.fcm import FcmGateway, fit_to_payload, payload_size
from apps.notifications.gateway.logpush import LogGateway
from apps.notifications.gateway.push import (
    MAX_PAYLOAD_BYTES,
    MAX_RETRY_DELAY_S,
    BatchTooLargeError,
    Outcome,
    OutgoingPush,
    PushResult,
    retry_delay_s,
)


def push(token: str = "tok-1", **overrides) -> OutgoingPush:
    fields = {"title": "Marché de Noël", "body": "Place de la mairie, dès samedi."}
    fields.update(overrides)
    return OutgoingPush(token=token, **fields)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"token": ""}, "token"),
        ({"title": None}, "title"),
        ({"urgency": 7}, "7"),
        ({"ttl_s": -1}, "ttl_s"),
        ({"ttl_s": 29 * 24 * 3600}, "ttl_s"),
        ({"ttl_s": 1.5}, "ttl_s"),
        ({"tag": "x" * 65}, "tag"),
        ({"data": {"id": 42}}, "strings"),
        ({"data": {"from": "x"}}, "reserved"),
        ({"data": {"google.x": "y"}}, "reserved"),
        ({"data": {"gcm.notification": "y"}}, "reserved"),
    ],
)
def test_outgoing_push_rejects_bad_input(overrides, message):
    fields = {"token": "tok", "title": "t", "body": "b", **overrides}
    with pytest.raises(ValueError, match=message):
        OutgoingPush(**fields)


def test_outgoing_push_accepts_an_urgency_code_value():
    assert push(urgency=2).urgency is Urgency.ALERT


def test_retry_delay_for_quota_is_retry_after_plus_a_little_jitter():
    rng = random.Random(1)
    result = PushResult("t", Outcome.QUOTA, retry_after_s=30.0)

    delays = [retry_delay_s(result, attempt, rng=rng) for attempt in range(20)]

    assert all(30.0 <= d <= 33.0 for d in delays)
    assert len(set(delays)) > 1  # jittered, so workers do not all come back together


def test_retry_delay_for_quota_without_retry_after_is_about_60_s():
    delay = retry_delay_s(PushResult("t", Outcome.QUOTA), 0, rng=random.Random(2))
    assert 60.0 <= delay <= 66.0


def test_retry_delay_for_transient_backs_off_with_jitter_up_to_the_cap():
    rng = random.Random(3)
    result = PushResult("t", Outcome.TRANSIENT)

    for attempt, (low, high) in enumerate([(2.5, 5), (5, 10), (10, 20), (20, 40)]):
        assert low <= retry_delay_s(result, attempt, rng=rng) <= high
    assert retry_delay_s(result, 30, rng=rng) <= MAX_RETRY_DELAY_S


def test_retry_delay_for_transient_honours_a_503_retry_after():
    result = PushResult("t", Outcome.TRANSIENT, retry_after_s=120.0)
    assert retry_delay_s(result, 0, rng=random.Random(4)) == 120.0


@pytest.mark.parametrize(
    "outcome", [Outcome.SENT, Outcome.DEAD_TOKEN, Outcome.INVALID_PAYLOAD, Outcome.AUTH_ERROR]
)
def test_retry_delay_refuses_outcomes_that_are_not_retried(outcome):
    with pytest.raises(ValueError, match="not retried"):
        retry_delay_s(PushResult("t", outcome), 0)


def test_fit_to_payload_cuts_the_body_to_fit_with_an_ellipsis():
    long = push(body="Les travaux de la rue du Port " * 200)
    assert payload_size(long) > MAX_PAYLOAD_BYTES

    fitted = fit_to_payload(long)

    assert payload_size(fitted) <= MAX_PAYLOAD_BYTES
    assert payload_size(fitted) > MAX_PAYLOAD_BYTES - 10  # as much text as fits
    assert fitted.body.endswith("…")
    assert long.body.startswith(fitted.body[:-1])
    assert fitted.title == long.title


def test_fit_to_payload_then_cuts_the_title():
    long = push(title="Fermeture " * 500, body="x" * 5000)

    fitted = fit_to_payload(long)

    assert payload_size(fitted) <= MAX_PAYLOAD_BYTES
    assert fitted.body == ""
    assert fitted.title.endswith("…")


def test_fit_to_payload_leaves_a_push_that_fits_or_cannot_fit_unchanged():
    fits = push()
    hopeless = push(data={"blob": "x" * 5000})

    assert fit_to_payload(fits) is fits
    assert fit_to_payload(hopeless) is hopeless


def test_log_gateway_records_what_would_be_sent():
    gateway = LogGateway(capacity=2)
    results = gateway.send([push("tok-1"), push("tok-2"), push("tok-3", urgency=Urgency.ALERT)])

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert [r.message_id for r in results] == ["log-1", "log-2", "log-3"]
    records = gateway.records()
    assert [r.push.token for r in records] == ["tok-2", "tok-3"]  # a ring buffer
    assert records[1].payload_bytes == payload_size(records[1].push)
    gateway.clear()
    assert gateway.records() == []


def test_log_gateway_applies_the_same_limits_as_fcm():
    gateway = LogGateway()

    [result] = gateway.send([push(body="é" * 2100)])

    assert result.outcome is Outcome.INVALID_PAYLOAD
    assert result.error_code == "PAYLOAD_TOO_LARGE"
    assert gateway.records() == []
    with pytest.raises(BatchTooLargeError):
        gateway.send([push(f"t{i}") for i in range(501)])


def test_get_gateway_is_the_log_backend_without_credentials(settings):
    settings.PUSH_BACKEND = "log"
    try:
        gateway = get_gateway()
        assert isinstance(gateway, LogGateway)
        assert get_gateway() is gateway
    finally:
        reset_gateway()


def test_get_gateway_rebuilds_when_the_settings_change(settings, fcm_settings):
    fcm = get_gateway()
    assert isinstance(fcm, FcmGateway)

    settings.PUSH_BACKEND = "log"

    assert isinstance(get_gateway(), LogGateway)


@pytest.mark.parametrize(
    ("backend", "credentials"),
    [("fcm", ""), ("apns", ""), ("fcm", "/nonexistent/service-account.json")],
)
def test_get_gateway_refuses_a_broken_configuration(settings, backend, credentials):
    settings.PUSH_BACKEND = backend
    settings.FCM_CREDENTIALS_FILE = credentials
    try:
        with pytest.raises(ImproperlyConfigured):
            get_gateway()
    finally:
        reset_gateway()


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"type": "authorized_user", "project_id": "p"}',
        '{"type": "service_account"}',
        '{"type": "service_account", "project_id": "p", "private_key": "nope"}',
        "[]",
    ],
)
def test_fcm_gateway_refuses_a_bad_credentials_file(tmp_path, content):
    path = tmp_path / "sa.json"
    path.write_text(content)

    with pytest.raises(FcmConfigurationError, match="FCM_CREDENTIALS_FILE"):
        FcmGateway(credentials_file=path)


def test_fcm_gateway_refuses_a_timeout_over_30_s(fcm_service_account):
    with pytest.raises(ValueError, match="timeout_s"):
        FcmGateway(credentials_file=fcm_service_account.path, timeout_s=120)
