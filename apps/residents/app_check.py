"""Firebase App Check on device registration: only genuine builds of the app may register.

With ``APP_CHECK_REQUIRED`` the app sends ``X-Firebase-AppCheck: <token>``, a JWT that Firebase
signs (RS256) for the app once Play Integrity / App Attest / DeviceCheck vouched for it.
firebase-admin's ``app_check.verify_token`` checks it offline: signature against Firebase's
public keys (fetched from ``APP_CHECK_JWKS_URL`` and cached 6 h), ``iss``
``https://firebaseappcheck.googleapis.com/<project number>``, ``aud`` containing
``projects/<APP_CHECK_PROJECT>``, expiry. Missing or invalid → 401 in the API's error shape;
Firebase's keys unreachable → 503 with ``Retry-After`` (fail closed: this is the abuse control).

This module is the only one besides the push gateway that imports ``firebase_admin``
(architecture.md §2). It uses its own named Firebase app (the push gateway's is separate), with
anonymous Google credentials: verifying needs no Google account, only the public keys.
"""

from __future__ import annotations

import threading
from typing import Any

import firebase_admin
import jwt
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from firebase_admin import app_check
from firebase_admin import credentials as firebase_credentials
from google.auth.credentials import AnonymousCredentials
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

#: The request header the Firebase SDKs' App Check integration uses.
HEADER = "X-Firebase-AppCheck"
#: Longest token accepted (Firebase's are about 900 characters).
MAX_TOKEN_CHARS = 4096
#: Seconds for fetching the public keys.
JWKS_TIMEOUT_S = 5
#: An unknown key id refetches the key set at most this often (PyJWT's cooldown): a forged
#: ``kid`` in every request must not turn each one into a request to Google. Firebase
#: publishes a new key before signing with it, so a rotation waits at most this long.
KID_REFRESH_INTERVAL_S = 300

_lock = threading.Lock()
_apps: dict[tuple[str, str], firebase_admin.App] = {}


class AppCheckUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Les clés App Check sont indisponibles : réessayez dans une minute.")
    default_code = "app_check_unavailable"
    #: DRF's exception handler turns ``wait`` into a ``Retry-After`` header.
    wait = 60


class _Anonymous(firebase_credentials.Base):
    """No Google account: verifying a token needs only Firebase's public keys."""

    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()


def _app() -> firebase_admin.App:
    """The Firebase app of the current settings (one per project and key URL), created once."""
    config = (settings.APP_CHECK_PROJECT, settings.APP_CHECK_JWKS_URL)
    with _lock:
        app = _apps.get(config)
        if app is None:
            app = firebase_admin.initialize_app(
                _Anonymous(),
                {"projectId": config[0], "httpTimeout": JWKS_TIMEOUT_S},
                name=f"quartier-app-check-{len(_apps)}",
            )
            # The SDK reads its key URL from a class attribute; give it ours, with a timeout.
            service = app_check._get_app_check_service(app)
            service._jwks_client = jwt.PyJWKClient(
                config[1],
                lifespan=21600,
                timeout=JWKS_TIMEOUT_S,
                cooldown_duration=KID_REFRESH_INTERVAL_S,
            )
            _apps[config] = app
    return app


def app_check_verify(request: Request) -> dict[str, Any] | None:
    """Check the request's App Check token when ``APP_CHECK_REQUIRED``; return its claims.

    Raises ``AuthenticationFailed`` (401) for a missing or invalid token and
    ``AppCheckUnavailable`` (503) when Firebase's keys cannot be fetched.
    """
    if not settings.APP_CHECK_REQUIRED:
        return None
    token = request.headers.get(HEADER, "").strip()
    if not token:
        raise exceptions.AuthenticationFailed(
            _("Cette API demande un jeton Firebase App Check (en-tête X-Firebase-AppCheck)."),
            code="app_check_missing",
        )
    invalid = exceptions.AuthenticationFailed(
        _("Jeton App Check invalide ou expiré."), code="app_check_invalid"
    )
    if len(token) > MAX_TOKEN_CHARS:
        raise invalid
    app = _app()
    try:
        return app_check.verify_token(token, app=app)
    except jwt.PyJWKClientConnectionError:
        raise AppCheckUnavailable() from None
    except (ValueError, jwt.PyJWTError):
        # ValueError: the SDK's verdicts (signature, aud, iss, expiry, headers);
        # PyJWTError: a token that is not a JWT, or whose key id Firebase does not publish.
        raise invalid from None


class AppCheckHeaderAuthentication(BaseAuthentication):
    """Authenticates nobody; names the App Check header in 401 answers (WWW-Authenticate)."""

    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'AppCheck realm="api", header="X-Firebase-AppCheck"'
