"""FCM gateway: the one module importing firebase_admin (architecture.md §2, §6; ruff bans others).

The real path: google-auth signs an RS256 JWT with the service account's key and exchanges it at
the JSON's ``token_uri`` for a one-hour access token; firebase-admin's ``send_each_async`` posts
each message to ``{FCM_ENDPOINT}/v1/projects/{project}/messages:send``. One event loop, one
firebase app and one pooled client per process, created on first use and keyed on
``os.getpid()`` (Celery prefork children never touch their parent's loop or sockets). No retry
happens inside a call: the caller's policy (``push.retry_delay_s``) owns them all. Why, and the
transport choice: docs/notifications.md.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import firebase_admin
from firebase_admin import _http_client, _retry, exceptions, messaging
from google.auth import exceptions as google_exceptions

from apps.core.models import Urgency
from apps.notifications.gateway import fcm_http
from apps.notifications.gateway.aioloop import LoopThread
from apps.notifications.gateway.credentials import SharedTokenCredentials, load_service_account
from apps.notifications.gateway.push import (
    CHANNEL_IDS,
    MAX_PAYLOAD_BYTES,
    Outcome,
    OutgoingPush,
    PushResult,
    check_batch,
)
from apps.notifications.gateway.transport import AiohttpClient

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://fcm.googleapis.com"
ANDROID_PRIORITY = {Urgency.INFO: "normal", Urgency.IMPORTANT: "high", Urgency.ALERT: "high"}
NOTIFICATION_PRIORITY = {Urgency.INFO: "default", Urgency.IMPORTANT: "high", Urgency.ALERT: "max"}
APNS_PRIORITY = {Urgency.INFO: "5", Urgency.IMPORTANT: "10", Urgency.ALERT: "10"}
# iOS 15+ interruption levels; time-sensitive breaks through Focus (needs the app entitlement).
INTERRUPTION_LEVEL = {
    Urgency.INFO: "passive",
    Urgency.IMPORTANT: "active",
    Urgency.ALERT: "time-sensitive",
}


# --- message building and the payload limit ---------------------------------------------------
def build_message(push: OutgoingPush, *, now: float | None = None) -> messaging.Message:
    """The FCM message of ``push``: Android and APNs options by urgency, collapse by tag."""
    tag = push.tag or None
    expires_at = int((time.time() if now is None else now) + push.ttl_s) if push.ttl_s else 0
    apns_headers = {
        "apns-priority": APNS_PRIORITY[push.urgency],
        "apns-expiration": str(expires_at),
    }
    if tag:
        apns_headers["apns-collapse-id"] = tag
    return messaging.Message(
        token=push.token,
        notification=messaging.Notification(title=push.title, body=push.body),
        data={**push.data, "lang": push.language},
        android=messaging.AndroidConfig(
            priority=ANDROID_PRIORITY[push.urgency],
            ttl=timedelta(seconds=push.ttl_s),
            collapse_key=tag,
            notification=messaging.AndroidNotification(
                channel_id=CHANNEL_IDS[push.urgency],
                tag=tag,
                priority=NOTIFICATION_PRIORITY[push.urgency],
            ),
        ),
        apns=messaging.APNSConfig(
            headers=apns_headers,
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    sound=None if push.urgency == Urgency.INFO else "default",
                    thread_id=tag,
                    custom_data={"interruption-level": INTERRUPTION_LEVEL[push.urgency]},
                )
            ),
        ),
    )


def _encode(push: OutgoingPush) -> tuple[messaging.Message, int]:
    """The message and the size of the request body the SDK will send for it.

    ``_message_data`` wraps the SDK's own encoding in ``{"message": ...}``; httpx serialises it
    compactly in UTF-8. Raises ValueError when the SDK refuses the message.
    """
    message = build_message(push)
    body = {"message": messaging._MessagingService.encode_message(message)}
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    return message, size


def payload_size(push: OutgoingPush) -> int:
    """Bytes of the JSON body FCM would receive for ``push`` (token and options included)."""
    return _encode(push)[1]


_SIZE_PLACEHOLDER = "t"
#: The data key of a push's open ticket (``apps.notifications.services.opens``): random
#: URL-safe text, so pushes that differ by it alone have bodies of the same size.
OPEN_TICKET_KEY = "open_ticket"


def _json_bytes(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


def payload_sizes(pushes: Sequence[OutgoingPush]) -> list[int | ValueError]:
    """``payload_size`` of each push, or the ValueError the SDK raises for it.

    A fan-out sends one text to many tokens: pushes that differ only by their token (and their
    open ticket, URL-safe text of one length, so of one JSON size) are encoded once, and each
    token adds its own JSON length (the token appears once in the body, and the SDK checks only
    that it is a non-empty string).
    """
    bases: dict[tuple[Any, ...], int | ValueError] = {}
    placeholder = _json_bytes(_SIZE_PLACEHOLDER)
    sizes: list[int | ValueError] = []
    for push in pushes:
        key = (
            push.title,
            push.body,
            push.urgency,
            tuple((k, len(v) if k == OPEN_TICKET_KEY else v) for k, v in push.data.items()),
            push.tag,
            push.language,
            push.ttl_s,
        )
        base = bases.get(key)
        if base is None:
            try:
                base = payload_size(replace(push, token=_SIZE_PLACEHOLDER))
            except ValueError as error:
                base = error
            bases[key] = base
        sizes.append(
            base if isinstance(base, ValueError) else base - placeholder + _json_bytes(push.token)
        )
    return sizes


def fit_to_payload(push: OutgoingPush, limit: int = MAX_PAYLOAD_BYTES) -> OutgoingPush:
    """``push`` with its body (then, if needed, its title) cut with "…" to fit ``limit`` bytes.

    Returns ``push`` unchanged when it already fits or when even empty texts would not fit.
    """
    if payload_size(push) <= limit:
        return push
    fitted = _longest_fitting(push, "body", limit)
    if fitted is None:
        fitted = _longest_fitting(replace(push, body=""), "title", limit)
    return fitted or push


def _longest_fitting(
    push: OutgoingPush, attr: Literal["body", "title"], limit: int
) -> OutgoingPush | None:
    text: str = getattr(push, attr)

    def cut(n: int) -> OutgoingPush:
        shortened = text[:n].rstrip() + "…" if n else ""
        if attr == "body":
            return replace(push, body=shortened)
        return replace(push, title=shortened)

    if payload_size(cut(0)) > limit:
        return None
    low, high = 0, len(text) - 1  # invariant: cut(low) fits
    while low < high:
        middle = (low + high + 1) // 2
        if payload_size(cut(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return cut(low)


# --- errors -> outcomes -----------------------------------------------------------------------
def _result(token: str, outcome: Outcome, error: BaseException | None, **extra: Any) -> PushResult:
    return PushResult(token=token, outcome=outcome, detail=str(error or "")[:500], **extra)


def classify(token: str, error: BaseException) -> PushResult:
    """Map an exception from the SDK or google-auth to the architecture.md §6 outcome."""
    response = getattr(error, "http_response", None)
    fcm_code, names_token = fcm_http.error_details(response)
    code = fcm_code or getattr(error, "code", None) or type(error).__name__
    retry_after = fcm_http.retry_after_s(response)

    def result(outcome: Outcome) -> PushResult:
        return _result(token, outcome, error, error_code=code, retry_after_s=retry_after)

    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return result(Outcome.DEAD_TOKEN)
    if isinstance(error, exceptions.InvalidArgumentError):
        return result(Outcome.DEAD_TOKEN if names_token else Outcome.INVALID_PAYLOAD)
    if isinstance(error, messaging.QuotaExceededError | exceptions.ResourceExhaustedError):
        return result(Outcome.QUOTA)
    if isinstance(
        error,
        messaging.ThirdPartyAuthError
        | exceptions.UnauthenticatedError
        | exceptions.PermissionDeniedError
        | exceptions.NotFoundError,
    ):
        # Our credentials, project or endpoint are wrong (a dead token is UNREGISTERED, above):
        # alarm, and keep the tokens.
        return result(Outcome.AUTH_ERROR)
    cause = getattr(error, "cause", None) or error.__cause__
    if isinstance(cause, google_exceptions.GoogleAuthError):
        return classify(token, cause)
    if isinstance(error, google_exceptions.RefreshError) and not error.retryable:
        return result(Outcome.AUTH_ERROR)
    # UnavailableError, InternalError, DeadlineExceededError, transport errors, anything else.
    return result(Outcome.TRANSIENT)


# --- HTTP clients and per-process state -------------------------------------------------------
def _make_client(gateway: FcmGateway, credentials: SharedTokenCredentials) -> Any:
    if gateway.transport == "aiohttp":
        return AiohttpClient(
            credentials=credentials,
            headers=_http_client.METRICS_HEADERS,
            timeout_s=gateway.timeout_s,
            connections=gateway.connections,
        )
    # The SDK's own client (httpx, HTTP/2 over TLS), its 500/503 retries turned off.
    return _http_client.HttpxAsyncClient(
        credential=credentials,
        timeout=gateway.timeout_s,
        retry_config=_retry.HttpxRetry(max_retries=0, status_forcelist=[500, 503]),
    )


_service_lock = threading.Lock()
_app_numbers = itertools.count(1)


class _Process:
    """Loop, app and client of one process; never used across ``fork()``."""

    def __init__(self, gateway: FcmGateway) -> None:
        self.pid = os.getpid()
        self.credentials = SharedTokenCredentials(
            gateway.service_account,
            timeout_s=gateway.timeout_s,
            min_refresh_s=gateway.min_refresh_s,
        )
        self.app = firebase_admin.initialize_app(
            self.credentials,
            {"projectId": gateway.project_id, "httpTimeout": gateway.timeout_s},
            name=f"quartier-fcm-{self.pid}-{next(_app_numbers)}",
        )
        with _service_lock:  # FCM_URL is read once, when the app's messaging service is built
            default_url = messaging._MessagingService.FCM_URL
            messaging._MessagingService.FCM_URL = (
                gateway.endpoint + "/v1/projects/{0}/messages:send"
            )
            try:
                service = messaging._get_messaging_service(self.app)
            finally:
                messaging._MessagingService.FCM_URL = default_url
        if not hasattr(service, "_async_client"):
            raise RuntimeError("firebase-admin changed: _MessagingService._async_client is gone")
        self.client = _make_client(gateway, self.credentials)
        service._async_client = self.client
        self.loop = LoopThread(name=f"fcm-loop-{self.pid}")

    def close(self) -> None:
        if self.pid != os.getpid():
            return  # the parent's sockets and thread: not ours to touch
        try:
            self.loop.run(self.client.aclose(), timeout_s=10)
        finally:
            self.loop.stop()
            firebase_admin.delete_app(self.app)


_gateways: weakref.WeakSet[FcmGateway] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() time stays held forever in the child.
    for gateway in list(_gateways):
        gateway._lock = threading.Lock()


def _close_all() -> None:
    # At exit, close this process's pools cleanly (aiohttp complains about unclosed sessions).
    for gateway in list(_gateways):
        gateway.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all)


class FcmGateway:
    """Sends batches of pushes through firebase-admin; thread-safe, fork-safe, lazy.

    ``timeout_s`` is firebase-admin's ``httpTimeout`` (its default of 120 s would let one stuck
    connection hold a worker for minutes). A batch is also bounded as a whole by
    ``4 * timeout_s + 5`` seconds; past it every push of the batch is ``transient``.
    """

    name = "fcm"

    def __init__(
        self,
        *,
        credentials_file: str | Path,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 15.0,
        transport: Literal["aiohttp", "httpx"] = "aiohttp",
        connections: int = 100,
        min_refresh_s: float = 30.0,
    ) -> None:
        self.service_account = load_service_account(credentials_file)
        self.project_id: str = self.service_account.project_id
        self.endpoint = endpoint.rstrip("/")
        if not 0 < timeout_s <= 30:
            raise ValueError("timeout_s must be in (0, 30] seconds")
        self.timeout_s = timeout_s
        if transport not in ("aiohttp", "httpx"):
            raise ValueError("transport must be 'aiohttp' or 'httpx'")
        self.transport = transport
        self.connections = connections
        self.min_refresh_s = min_refresh_s
        self._lock = threading.Lock()
        self._process: _Process | None = None
        _gateways.add(self)

    @property
    def token_exchanges(self) -> int:
        """Token exchanges made by this process's credentials so far."""
        process = self._process
        return process.credentials.exchanges if process and process.pid == os.getpid() else 0

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]:
        """Send up to 500 pushes at once; one ``PushResult`` per push, in order."""
        batch = check_batch(pushes)
        results: list[PushResult | None] = [None] * len(batch)
        messages: list[messaging.Message] = []
        positions: list[int] = []
        for position, (push, size) in enumerate(zip(batch, payload_sizes(batch), strict=True)):
            if isinstance(size, ValueError):
                results[position] = _result(push.token, Outcome.INVALID_PAYLOAD, size)
                continue
            if size > MAX_PAYLOAD_BYTES:
                detail = f"payload of {size} bytes is over FCM's {MAX_PAYLOAD_BYTES}"
                results[position] = PushResult(
                    push.token,
                    Outcome.INVALID_PAYLOAD,
                    error_code="PAYLOAD_TOO_LARGE",
                    detail=detail,
                )
                continue
            messages.append(build_message(push))
            positions.append(position)
        if messages:
            tokens = [batch[position].token for position in positions]
            for position, result in zip(positions, self._send(messages, tokens), strict=True):
                results[position] = result
        # No log of the outcomes here: the caller logs each batch once (an auth error alarmed
        # twice when both did).
        return [result for result in results if result is not None]

    def _send(self, messages: list[messaging.Message], tokens: list[str]) -> list[PushResult]:
        started = time.monotonic()
        try:
            process = self._current()
            process.credentials.ensure_valid()  # here, not in the loop: it is blocking I/O
            batch = process.loop.run(
                messaging.send_each_async(messages, app=process.app),
                timeout_s=4 * self.timeout_s + 5,
            )
        except TimeoutError as error:
            return [
                _result(token, Outcome.TRANSIENT, error, error_code="DEADLINE") for token in tokens
            ]
        except (exceptions.FirebaseError, google_exceptions.GoogleAuthError) as error:
            return [classify(token, error) for token in tokens]
        logger.debug("FCM batch of %d in %.0f ms", len(tokens), 1000 * (time.monotonic() - started))
        return [
            PushResult(token, Outcome.SENT, message_id=response.message_id)
            if response.success
            else classify(token, response.exception)
            for token, response in zip(tokens, batch.responses, strict=True)
        ]

    def _current(self) -> _Process:
        with self._lock:
            process = self._process
            if process is None or process.pid != os.getpid() or not process.loop.alive:
                # After fork() the parent's state is abandoned, never closed: not ours.
                process = self._process = _Process(self)
            return process

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()
