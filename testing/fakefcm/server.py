"""The fake FCM server: an aiohttp app with the v1 send endpoint, a token endpoint and controls.

Routes:
- ``POST /token`` — OAuth2 JWT-bearer grant (what google-auth posts to a service account's
  ``token_uri``): verifies the RS256 signature with a trusted public key, the audience, issuer,
  scope and lifetime, and returns a one-hour access token.
- ``POST /v1/projects/{project}/messages:send`` — requires that bearer token (401 otherwise),
  checks the body like FCM, applies the injected faults, counts per token, answers
  ``{"name": "projects/{project}/messages/{id}"}``.
- ``GET /_stats`` (``?tokens=0`` to omit per-token counts, ``?messages=N`` for the last N
  messages), ``GET|POST /_faults`` (see ``Faults.update``), ``POST /_reset`` (``?tokens=1`` also
  forgets issued access tokens): control for tests and benchmarks running it out of process.

HTTP/1.1 with keep-alive only: firebase-admin's httpx client asks for HTTP/2, which httpx only
negotiates over TLS (ALPN); over ``http://`` it speaks HTTP/1.1 (no h2c), so that is what the
fake must serve fast. aiohttp's C parser and one event loop carry hundreds of connections.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization

from testing.fakefcm import errors
from testing.fakefcm.credentials import ServiceAccount, make_service_account
from testing.fakefcm.state import STORM_ERRORS, TOKEN_FAULTS, Faults, Recorder
from testing.fakefcm.validate import check_body

JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCEPTED_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/firebase.messaging",
        "https://www.googleapis.com/auth/cloud-platform",
    }
)
SEND_PATH = "/v1/projects/{project}/messages:send"
# google-auth signs every service-account grant for Google's own token endpoint, whatever the
# JSON's token_uri says (service_account._GOOGLE_OAUTH2_TOKEN_ENDPOINT); accept that audience.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class _TrustedKey:
    email: str
    project_id: str
    token_uri: str
    public_key: Any


class FakeFcm:
    """One fake FCM endpoint. ``start()`` serves it from a background thread (tests);
    ``serve()`` runs it in the current event loop (``python -m testing.fakefcm``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_messages: int = 10_000,
        access_token_ttl_s: int = 3600,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = Faults()
        self.recorder = Recorder(keep_messages)
        self._ttl_s = access_token_ttl_s
        self._keys: dict[str, _TrustedKey] = {}
        self._access_tokens: dict[str, tuple[float, str]] = {}  # token -> (expiry, project)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # --- configuration -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def trust(self, account: ServiceAccount) -> None:
        """Accept JWTs signed by this service account's key."""
        self._keys[account.key_id] = _TrustedKey(
            email=account.client_email,
            project_id=account.project_id,
            token_uri=account.token_uri,
            public_key=serialization.load_pem_public_key(account.public_key_pem),
        )

    def service_account(
        self, path: str | Path | None = None, *, project_id: str = "quartier-test"
    ) -> ServiceAccount:
        """A fresh throwaway service account whose ``token_uri`` is this server, trusted."""
        self._bind()
        account = make_service_account(path, token_uri=self.token_uri, project_id=project_id)
        self.trust(account)
        return account

    def set_faults(self, **changes: Any) -> None:
        """Same keys as ``POST /_faults``: token lists, ``latency_ms``, ``storm``, ..."""
        self.faults.update(changes)

    def storm(self, status: int, duration_s: float, retry_after_s: int | None = None) -> None:
        """Answer every send with ``status`` (429, 500 or 503) for ``duration_s`` seconds."""
        self.faults.update(
            {"storm": {"status": status, "duration_s": duration_s, "retry_after_s": retry_after_s}}
        )

    def reset(self, *, access_tokens: bool = False) -> None:
        """Clear counts and faults (and, if asked, forget issued access tokens)."""
        self.faults = Faults()
        self.recorder.reset()
        if access_tokens:
            self._access_tokens.clear()

    def stats(self, *, tokens: bool = True, messages: int = 0) -> dict[str, Any]:
        return self.recorder.snapshot(tokens=tokens, messages=messages)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Accepted messages, oldest first (up to ``keep_messages``)."""
        return self.recorder.snapshot(tokens=False, messages=10**9)["messages"]

    # --- running -----------------------------------------------------------------------------
    def _bind(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_server((self.host, self.port), backlog=2048)
            self.port = self._sock.getsockname()[1]
        return self._sock

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/token", self._token)
        app.router.add_post(SEND_PATH, self._send)
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/_faults", self._get_faults)
        app.router.add_post("/_faults", self._post_faults)
        app.router.add_post("/_reset", self._reset)
        return app

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until cancelled; call ``on_ready`` once connections are accepted."""
        runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.SockSite(runner, self._bind(), backlog=2048)
        await site.start()
        if on_ready is not None:
            on_ready()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    def start(self) -> FakeFcm:
        """Serve from a daemon thread; return once it accepts connections."""
        ready = threading.Event()
        self._bind()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._task = loop.create_task(self.serve(ready.set))
            try:
                loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fakefcm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake FCM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(10)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- handlers ----------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        if self.faults.token_endpoint == "unavailable":
            return _oauth_error(503, "temporarily_unavailable", "The fake is told to fail.")
        form = await request.post()
        if form.get("grant_type") != JWT_GRANT_TYPE:
            return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type.")
        assertion = form.get("assertion")
        if not isinstance(assertion, str):
            return _oauth_error(400, "invalid_request", "Missing assertion.")
        try:
            claims, trusted = self._verify(assertion)
        except jwt.PyJWTError as error:
            self.recorder.count("token_failures")
            return _oauth_error(400, "invalid_grant", f"Invalid JWT: {error}")
        if self.faults.token_endpoint == "invalid_grant":
            self.recorder.count("token_failures")
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        if not ACCEPTED_SCOPES & set(str(claims.get("scope", "")).split()):
            self.recorder.count("token_failures")
            return _oauth_error(400, "invalid_scope", "No FCM scope in the assertion.")
        access_token = "ya29.fake-" + secrets.token_urlsafe(24)
        self._access_tokens[access_token] = (time.monotonic() + self._ttl_s, trusted.project_id)
        self.recorder.count("token_requests")
        return web.json_response(
            {"access_token": access_token, "expires_in": self._ttl_s, "token_type": "Bearer"}
        )

    def _verify(self, assertion: str) -> tuple[dict[str, Any], _TrustedKey]:
        header = jwt.get_unverified_header(assertion)
        trusted = self._keys.get(str(header.get("kid")))
        if trusted is None:
            raise jwt.InvalidKeyError("unknown key id")
        claims = jwt.decode(
            assertion,
            trusted.public_key,
            algorithms=["RS256"],
            audience=[GOOGLE_TOKEN_AUDIENCE, trusted.token_uri],
            issuer=trusted.email,
            leeway=60,
            options={"require": ["iss", "aud", "iat", "exp"]},
        )
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            raise jwt.InvalidTokenError("assertion lifetime over one hour")
        return claims, trusted

    async def _send(self, request: web.Request) -> web.Response:
        project = request.match_info["project"]
        problem = self._check_bearer(request.headers.get("Authorization", ""), project)
        if problem is not None:
            return problem
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        token, invalid = check_body(body)
        self.recorder.attempt(token)
        faults = self.faults
        if faults.latency_s:
            await asyncio.sleep(faults.latency_s)
        if faults.storm_active():
            return self._error(
                *errors.fcm_error(STORM_ERRORS[faults.storm_status or 503]),
                retry_after=faults.retry_after_s,
                token=token,
            )
        if invalid is not None:
            return self._error(*invalid)
        assert token is not None
        fault = faults.fault_for(token)
        if fault is not None:
            return self._fault(fault, token)
        if body.get("validate_only"):
            return web.json_response({"name": f"projects/{project}/messages/fake_message_id"})
        message_id = self.recorder.accept(token, body["message"], len(raw))
        return web.json_response({"name": f"projects/{project}/messages/{message_id}"})

    def _check_bearer(self, authorization: str, project: str) -> web.Response | None:
        scheme, _, access_token = authorization.partition(" ")
        grant = self._access_tokens.get(access_token) if scheme == "Bearer" else None
        if grant is None or grant[0] < time.monotonic():
            self.recorder.count("unauthorized")
            status, body = errors.unauthenticated(
                "Request had invalid authentication credentials. Expected OAuth 2 access token."
            )
            return web.json_response(body, status=status, headers={"WWW-Authenticate": "Bearer"})
        if grant[1] != project:
            status, body = errors.permission_denied(
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}'."
            )
            return web.json_response(body, status=status)
        return None

    def _fault(self, fault: str, token: str) -> web.Response:
        if fault == "invalid_token":
            return self._error(*errors.invalid_token())
        if fault == "invalid_token_bare":
            return self._error(
                *errors.fcm_error("INVALID_ARGUMENT", message=errors.INVALID_TOKEN_MESSAGE)
            )
        if fault == "invalid_payload":
            return self._error(
                *errors.invalid_payload(
                    "message.data[0].value",
                    "Invalid value at 'message.data[0].value' (TYPE_STRING), rejected by the fake",
                )
            )
        retry_after = (self.faults.retry_after_s or 30) if fault == "quota_exceeded" else None
        return self._error(
            *errors.fcm_error(TOKEN_FAULTS[fault]), retry_after=retry_after, token=token
        )

    def _error(
        self,
        status: int,
        body: dict[str, Any],
        *,
        retry_after: int | None = None,
        token: str | None = None,
    ) -> web.Response:
        details = body["error"].get("details", [])
        self.recorder.error(details[0]["errorCode"] if details else body["error"]["status"])
        if retry_after is not None and token is not None:
            self.recorder.told_to_wait(token, retry_after)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.json_response(body, status=status, headers=headers)

    async def _stats(self, request: web.Request) -> web.Response:
        try:
            messages = int(request.query.get("messages", "0"))
        except ValueError:
            return web.json_response({"error": "messages must be an integer"}, status=400)
        tokens = request.query.get("tokens", "1") not in ("0", "false")
        return web.json_response(self.stats(tokens=tokens, messages=max(0, messages)))

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.as_dict())

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            self.faults.update(await request.json())
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(self.faults.as_dict())

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset(access_tokens=request.query.get("tokens") in ("1", "true"))
        return web.json_response({"reset": True})


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    """RFC 6749 §5.2 error, as Google's token endpoint sends it."""
    return web.json_response({"error": error, "error_description": description}, status=status)
