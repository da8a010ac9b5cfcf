"""FCM v1 error responses, shaped like the real service's so that firebase-admin parses them.

firebase-admin picks its exception class from ``error.details[]`` (the entry whose ``@type`` is
``type.googleapis.com/google.firebase.fcm.v1.FcmError``, by its ``errorCode``) and falls back to
``error.status``. Callers tell a bad token from a bad payload by the ``google.rpc.BadRequest``
field violations (``message.token``) or, for the newer responses that carry none, the message.
"""

from __future__ import annotations

from typing import Any

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"

# FCM errorCode -> (HTTP status, google.rpc status, message FCM sends).
ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "QUOTA_EXCEEDED": (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'.",
    ),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}

INVALID_TOKEN_MESSAGE = "The registration token is not a valid FCM registration token"


def fcm_error(
    error_code: str,
    *,
    message: str | None = None,
    field_violations: list[tuple[str, str]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """The (HTTP status, JSON body) FCM answers for ``error_code``."""
    status, rpc_status, default_message = ERRORS[error_code]
    details: list[dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}]
    if field_violations:
        details.append(
            {
                "@type": BAD_REQUEST_TYPE,
                "fieldViolations": [
                    {"field": field, "description": description}
                    for field, description in field_violations
                ],
            }
        )
    body = {
        "error": {
            "code": status,
            "message": message or default_message,
            "status": rpc_status,
            "details": details,
        }
    }
    return status, body


def invalid_token() -> tuple[int, dict[str, Any]]:
    """INVALID_ARGUMENT about the registration token (the token is dead)."""
    return fcm_error(
        "INVALID_ARGUMENT",
        message=INVALID_TOKEN_MESSAGE,
        field_violations=[("message.token", INVALID_TOKEN_MESSAGE)],
    )


def invalid_payload(field: str, description: str) -> tuple[int, dict[str, Any]]:
    """INVALID_ARGUMENT about the message itself (the token is fine)."""
    return fcm_error(
        "INVALID_ARGUMENT",
        message=description,
        field_violations=[(field, description)],
    )


def unauthenticated(message: str) -> tuple[int, dict[str, Any]]:
    """What Google APIs answer to a missing or unknown OAuth2 access token (no FcmError)."""
    return 401, {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED"}}


def permission_denied(message: str) -> tuple[int, dict[str, Any]]:
    """A valid access token used on another project."""
    return 403, {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}


def not_found(message: str) -> tuple[int, dict[str, Any]]:
    """An unknown path (no FcmError: firebase-admin raises a plain NotFoundError)."""
    return 404, {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}}
