"""Alert presentation on phones, in the FCM payload the fake receives (firebase-admin's own
encoding): iOS critical alerts and a dedicated Android channel, only when the city sets them,
only for alerts."""

from __future__ import annotations

import pytest

from apps.core.models import Urgency
from apps.notifications.gateway.push import OutgoingPush


def push(urgency: int) -> OutgoingPush:
    return OutgoingPush(
        token=f"tok-{urgency}",
        title="Crue",
        body="Quais fermés",
        urgency=urgency,
        data={"type": "news", "id": "1"},
        tag="news-1",
        ttl_s=600,
    )


def sent(fcm_gateway, fake_fcm, urgency: int) -> dict:
    fcm_gateway.send([push(urgency)])
    return fake_fcm.messages[-1]["message"]


def test_alert_payload_defaults_time_sensitive_and_the_alert_channel(fcm_gateway, fake_fcm):
    message = sent(fcm_gateway, fake_fcm, Urgency.ALERT)
    assert message["android"]["notification"]["channel_id"] == "quartier_alert"
    aps = message["apns"]["payload"]["aps"]
    assert aps["interruption-level"] == "time-sensitive" and aps["sound"] == "default"


def test_alert_payload_critical_alerts_and_dnd_channel_when_configured(
    fcm_gateway, fake_fcm, settings
):
    settings.NOTIFY_IOS_CRITICAL_ALERTS = True
    settings.NOTIFY_ANDROID_ALERT_CHANNEL = "quartier_alert_dnd"
    message = sent(fcm_gateway, fake_fcm, Urgency.ALERT)
    assert message["android"]["notification"]["channel_id"] == "quartier_alert_dnd"
    assert message["android"]["priority"] == "high"
    aps = message["apns"]["payload"]["aps"]
    assert aps["interruption-level"] == "critical"
    assert aps["sound"] == {"critical": 1, "name": "default", "volume": 1.0}


@pytest.mark.parametrize("urgency", [Urgency.INFO, Urgency.IMPORTANT])
def test_alert_payload_options_never_touch_other_urgencies(
    fcm_gateway, fake_fcm, settings, urgency
):
    settings.NOTIFY_IOS_CRITICAL_ALERTS = True
    settings.NOTIFY_ANDROID_ALERT_CHANNEL = "quartier_alert_dnd"
    message = sent(fcm_gateway, fake_fcm, urgency)
    assert message["android"]["notification"]["channel_id"] != "quartier_alert_dnd"
    aps = message["apns"]["payload"]["aps"]
    assert aps["interruption-level"] != "critical"
    assert not isinstance(aps.get("sound"), dict)
