"""Payload sizes of a batch: one encoding per text, exact for every token."""

from __future__ import annotations

from apps.core.models import Urgency
from apps.notifications.gateway.fcm import payload_size, payload_sizes
from apps.notifications.gateway.push import MAX_PAYLOAD_BYTES, Outcome, OutgoingPush


def push(token: str, **overrides) -> OutgoingPush:
    fields = {
        "title": "Alerte crue",
        "body": "Montée des eaux, évitez les quais.",
        "urgency": Urgency.ALERT,
        "data": {"type": "news", "id": "7"},
        "tag": "news-7",
    }
    fields.update(overrides)
    return OutgoingPush(token=token, **fields)


def test_payload_sizes_equal_the_size_of_each_encoded_push():
    pushes = [
        push("short"),
        push("a-much-longer-token:APA91b" + "x" * 150),
        push('with "quotes" and \\ backslash'),
        push("jeton-accentué-ü"),
        push("short", language="en", title="Flood alert"),
        push("other", data={"id": "7", "type": "news"}),  # same items, another order
        push("other", urgency=Urgency.INFO, tag=""),
    ]

    assert payload_sizes(pushes) == [payload_size(p) for p in pushes]


def test_payload_sizes_give_the_sdk_error_of_a_refused_push():
    bad = push("tok-bad", ttl_s=60)
    object.__setattr__(bad, "ttl_s", -1)  # slipped past validation: the SDK raises ValueError

    good, refused = payload_sizes([push("tok-good"), bad])

    assert good == payload_size(push("tok-good"))
    assert isinstance(refused, ValueError)


def test_a_token_that_makes_the_body_too_large_fails_only_its_push(fcm_gateway, fake_fcm):
    fitting = push("t")
    room = MAX_PAYLOAD_BYTES - payload_size(fitting)
    just_fits, one_too_many = push("t" * (room + 1)), push("t" * (room + 2))

    results = fcm_gateway.send([fitting, just_fits, one_too_many])

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT, Outcome.INVALID_PAYLOAD]
    assert results[2].error_code == "PAYLOAD_TOO_LARGE"
    assert payload_size(just_fits) == MAX_PAYLOAD_BYTES
    assert set(fake_fcm.recorder.received) == {"t", just_fits.token}
