"""Liveness and readiness: can we reach the database and the Celery broker?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError
from kombu import Connection

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 2.0


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
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_S) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:  # kombu raises transport-specific errors
        logger.warning("health: broker unreachable: %s", exc)
        return "unavailable"
    return "ok"


def health_report() -> tuple[bool, dict[str, str]]:
    """Return (healthy, details); healthy means every dependency answered."""
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in ("ok", "eager") for value in checks.values())
    return healthy, {"status": "ok" if healthy else "unavailable", **checks}
