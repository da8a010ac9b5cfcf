"""The configured push gateway of this process: built from settings, shared, rebuilt on change.

Apart from the neutral API (``gateway.push``) so that the backends import that API and this
module imports the backends, never the other way round (no import cycle).
"""

from __future__ import annotations

import os
import threading

from apps.notifications.gateway.push import PushGateway

_gateway_lock = threading.Lock()
_gateway: PushGateway | None = None
_gateway_key: tuple[str, str, str] | None = None


def _after_fork_in_child() -> None:
    global _gateway_lock
    _gateway_lock = threading.Lock()  # a lock held at fork() time would stay held in the child


os.register_at_fork(after_in_child=_after_fork_in_child)


def get_gateway() -> PushGateway:
    """The configured backend (settings ``PUSH_BACKEND``, ``FCM_CREDENTIALS_FILE``,
    ``FCM_ENDPOINT``), one per process, rebuilt when those settings change."""
    global _gateway, _gateway_key
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    key = (settings.PUSH_BACKEND, settings.FCM_CREDENTIALS_FILE, settings.FCM_ENDPOINT)
    with _gateway_lock:
        if _gateway is not None and _gateway_key == key:
            return _gateway
        if _gateway is not None:
            _gateway.close()
            _gateway = None
        backend, credentials_file, endpoint = key
        if backend == "log":
            from apps.notifications.gateway.logpush import LogGateway

            _gateway = LogGateway()
        elif not backend:
            raise ImproperlyConfigured(
                "no push backend: set FCM_CREDENTIALS_FILE, or PUSH_BACKEND=log explicitly"
            )
        elif backend == "fcm":
            if not credentials_file:
                raise ImproperlyConfigured("PUSH_BACKEND=fcm needs FCM_CREDENTIALS_FILE")
            from apps.notifications.gateway.fcm import FcmGateway

            _gateway = FcmGateway(credentials_file=credentials_file, endpoint=endpoint)
        else:
            raise ImproperlyConfigured(f"PUSH_BACKEND must be 'fcm' or 'log', not {backend!r}")
        _gateway_key = key
        return _gateway


def gateway_check() -> str:
    """Build the configured gateway now; its name. Raises ``ImproperlyConfigured`` when the
    backend is unset or unknown, or the FCM service-account file is missing, unreadable or not
    a service account with a usable private key (a Celery worker calls this when it starts)."""
    return get_gateway().name


def reset_gateway() -> None:
    """Close and forget the process's gateway (tests; settings changed at run time)."""
    global _gateway, _gateway_key
    with _gateway_lock:
        if _gateway is not None:
            _gateway.close()
        _gateway, _gateway_key = None, None
