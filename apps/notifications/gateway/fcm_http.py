"""What an FCM v1 error response says beyond its exception class: errorCode, token, Retry-After.

firebase-admin raises ``InvalidArgumentError`` both for a bad registration token and for a bad
message; only the response tells them apart: a ``google.rpc.BadRequest`` field violation on
``message.token`` or, in newer answers that carry none, the wording "registration token".
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
TOKEN_FIELD = "message.token"
TOKEN_PHRASES = ("registration token",)


def error_details(response: Any) -> tuple[str | None, bool]:
    """(FCM ``errorCode``, whether the error is about the registration token) of a response."""
    if response is None:
        return None, False
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
    except ValueError:
        return None, False
    if not isinstance(error, dict):
        return None, False
    fcm_code, names_token = None, False
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == FCM_ERROR_TYPE:
            fcm_code = detail.get("errorCode")
        elif detail.get("@type") == BAD_REQUEST_TYPE:
            for violation in detail.get("fieldViolations") or []:
                field = str(violation.get("field", "")) if isinstance(violation, dict) else ""
                names_token = names_token or field.startswith(TOKEN_FIELD)
    message = str(error.get("message", "")).lower()
    names_token = names_token or any(phrase in message for phrase in TOKEN_PHRASES)
    return fcm_code, names_token


def retry_after_s(response: Any) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
