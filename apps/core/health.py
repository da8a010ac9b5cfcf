"""Readiness: can we reach the database, the cache and the Celery broker?

``ok``: everything answers. ``degraded`` (still HTTP 200): the cache or the broker does not
answer; reads are served from the database, pushes wait in the outbox for the broker, so the
instance must stay in the load balancer (every instance shares the same Redis: taking them
out would take the API down). ``unavailable`` (HTTP 503): the database does not answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError
from kombu import Connection

from apps.core.cache import cache_status

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 1.0


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unreachable: %s", exc)
        return "unavailable"
    return "ok"


def broker_status() -> str:
    """``ok``, ``eager`` (no broker configured: tasks run in-process) or ``unavailable``."""
    if not settings.CELERY_BROKER_URL:
        return "eager"
    try:
        # The socket timeouts too: a hung broker accepts the connection and never answers.
        options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "socket_connect_timeout": BROKER_TIMEOUT_S,
            "socket_timeout": BROKER_TIMEOUT_S,
        }
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_TIMEOUT_S,
            transport_options=options,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:  # kombu raises transport-specific errors
        logger.warning("health: broker unreachable: %s", exc)
        return "unavailable"
    return "ok"


def health_report() -> tuple[bool, dict[str, str]]:
    """Return (ready, details): ready while the database answers; see the module docstring."""
    checks = {"database": database_status(), "cache": cache_status(), "broker": broker_status()}
    if checks["database"] != "ok":
        status = "unavailable"
    elif "unavailable" in checks.values():
        status = "degraded"
    else:
        status = "ok"
    return status != "unavailable", {"status": status, **checks}
