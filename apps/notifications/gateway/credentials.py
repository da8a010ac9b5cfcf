"""The FCM service account: loading the JSON and one shared, throttled access token per process
(applied to each request by ``apps.notifications.gateway.transport``)."""

from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from google.auth import credentials as google_credentials
from google.auth.transport import requests as google_requests
from google.oauth2 import service_account

FCM_SCOPES = ("https://www.googleapis.com/auth/firebase.messaging",)


class FcmConfigurationError(ImproperlyConfigured):
    """The service-account file is missing, unreadable or not a service account."""


def load_service_account(path: str | Path) -> service_account.Credentials:
    """The service account of the JSON file, scoped to FCM, its key parsed (once: it is slow).

    Raises ``FcmConfigurationError`` when the file is missing, unreadable or not a service
    account with a project id, so that a misconfiguration fails at start-up.
    """
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise ValueError("not a service-account JSON (type must be 'service_account')")
        if not info.get("project_id"):
            raise ValueError("no project_id")
        return service_account.Credentials.from_service_account_info(info, scopes=list(FCM_SCOPES))
    except (OSError, ValueError, KeyError) as error:
        raise FcmConfigurationError(f"FCM_CREDENTIALS_FILE {path}: {error}") from error


class SharedTokenCredentials(google_credentials.Credentials):
    """The service account's access token, shared by every request of one process.

    google-auth signs an RS256 JWT and exchanges it at the JSON's ``token_uri``. Refreshes are
    serialised, use a bounded timeout (google-auth's default is 120 s), and happen at most once
    per ``min_refresh_s`` while the current token is still valid: firebase-admin refreshes twice
    on every 401 answer, which a batch of THIRD_PARTY_AUTH_ERROR (401) would turn into a
    thousand token exchanges, each blocking the event loop.
    """

    def __init__(
        self, inner: service_account.Credentials, *, timeout_s: float, min_refresh_s: float
    ) -> None:
        super().__init__()
        self._inner = inner
        self._lock = threading.Lock()
        self._request = functools.partial(google_requests.Request(), timeout=timeout_s)
        self._min_refresh_s = min_refresh_s
        self._refreshed_at = float("-inf")
        self.exchanges = 0

    def refresh(self, request: object) -> None:
        """Exchange a new JWT for a token (``request`` is ignored: ours has a timeout)."""
        with self._lock:
            recent = time.monotonic() - self._refreshed_at < self._min_refresh_s
            if self.valid and recent:
                return
            self._inner.refresh(self._request)
            self.token, self.expiry = self._inner.token, self._inner.expiry
            self._refreshed_at = time.monotonic()
            self.exchanges += 1

    def ensure_valid(self) -> None:
        """Refresh now if needed (raises google-auth's RefreshError / TransportError)."""
        if not self.valid:
            self.refresh(None)
