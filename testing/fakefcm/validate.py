"""Shape checks of a v1 ``messages:send`` body, answering like FCM does (400 INVALID_ARGUMENT)."""

from __future__ import annotations

import json
import re
from typing import Any

from testing.fakefcm import errors

MAX_PAYLOAD_BYTES = 4096
MAX_TTL_S = 28 * 24 * 3600
MESSAGE_FIELDS = frozenset(
    {
        "name",
        "data",
        "notification",
        "android",
        "webpush",
        "apns",
        "fcm_options",
        "token",
        "topic",
        "condition",
        "fid",
    }
)
_TTL = re.compile(r"^(\d+)(\.\d{1,9})?s$")
_APNS_PRIORITIES = frozenset({"1", "5", "10"})

# (HTTP status, error body) or None when the message is acceptable.
Problem = tuple[int, dict[str, Any]] | None


def check_body(body: Any) -> tuple[str | None, Problem]:
    """Return (token, problem) for a decoded request body; problem is None when it is valid."""
    if not isinstance(body, dict):
        return None, errors.invalid_payload("", "Invalid JSON payload received.")
    for key in body:
        if key not in ("message", "validate_only"):
            return None, _unknown_field(key, "")
    message = body.get("message")
    if not isinstance(message, dict):
        return None, errors.invalid_payload("message", "Message is missing or not an object.")
    for key in message:
        if key not in MESSAGE_FIELDS:
            return None, _unknown_field(key, "message")
    targets = [key for key in ("token", "topic", "condition", "fid") if key in message]
    if not targets:
        return None, errors.invalid_payload("message", "Recipient of the message is not set.")
    if len(targets) > 1:
        return None, errors.invalid_payload("message", "Exactly one target may be set.")
    token = message.get("token")
    if not isinstance(token, str) or not token:
        return None, errors.invalid_payload(
            "message.token", "This fake FCM server sends to non-empty registration tokens only."
        )
    return token, _check_message(message)


def _check_message(message: dict[str, Any]) -> Problem:
    problem = _check_string_map(message.get("data"), "message.data")
    if problem:
        return problem
    notification = message.get("notification")
    if notification is not None and not isinstance(notification, dict):
        return errors.invalid_payload("message.notification", "Notification must be an object.")
    problem = _check_android(message.get("android"))
    if problem:
        return problem
    problem = _check_apns(message.get("apns"))
    if problem:
        return problem
    payload = {key: value for key, value in message.items() if key != "token"}
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        return errors.invalid_payload("message", f"Message is too big ({size} bytes).")
    return None


def _check_android(android: Any) -> Problem:
    if android is None:
        return None
    if not isinstance(android, dict):
        return errors.invalid_payload("message.android", "AndroidConfig must be an object.")
    priority = android.get("priority")
    if priority is not None and str(priority).lower() not in ("high", "normal"):
        return _invalid_value("message.android.priority", priority)
    ttl = android.get("ttl")
    if ttl is not None:
        match = _TTL.match(str(ttl))
        if not match or int(match.group(1)) > MAX_TTL_S:
            return _invalid_value("message.android.ttl", ttl)
    problem = _check_string_map(android.get("data"), "message.android.data")
    if problem:
        return problem
    notification = android.get("notification")
    if notification is not None and not isinstance(notification, dict):
        return errors.invalid_payload(
            "message.android.notification", "AndroidNotification must be an object."
        )
    return None


def _check_apns(apns: Any) -> Problem:
    if apns is None:
        return None
    if not isinstance(apns, dict):
        return errors.invalid_payload("message.apns", "ApnsConfig must be an object.")
    headers = apns.get("headers") or {}
    problem = _check_string_map(headers, "message.apns.headers")
    if problem:
        return problem
    priority = headers.get("apns-priority")
    if priority is not None and priority not in _APNS_PRIORITIES:
        return _invalid_value("message.apns.headers[apns-priority]", priority)
    payload = apns.get("payload")
    if payload is not None and not (
        isinstance(payload, dict) and isinstance(payload.get("aps", {}), dict)
    ):
        return errors.invalid_payload("message.apns.payload", "aps must be an object.")
    return None


def _check_string_map(value: Any, field: str) -> Problem:
    if value is None:
        return None
    if not isinstance(value, dict):
        return errors.invalid_payload(field, f"Invalid value at '{field}': not a map.")
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(key, str) or not isinstance(item, str):
            return _invalid_value(f"{field}[{index}].value", item, kind="TYPE_STRING")
    return None


def _invalid_value(field: str, value: Any, *, kind: str = "") -> Problem:
    suffix = f" ({kind})" if kind else ""
    return errors.invalid_payload(field, f"Invalid value at '{field}'{suffix}, {value!r}")


def _unknown_field(name: str, where: str) -> Problem:
    at = f" at '{where}'" if where else ""
    return errors.invalid_payload(
        where, f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
    )
