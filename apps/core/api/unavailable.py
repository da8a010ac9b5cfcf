"""503 answers for outages: Redis needed and unreachable, the database gone or too slow.

Every one has ``Retry-After`` and the API's error shape (``apps.core.api.errors``). An outage
is not the client's fault and its request changed nothing (a statement cancelled or a
connection lost rolls its transaction back), so the client may simply retry after the delay.
"""

from __future__ import annotations

import psycopg
from django.db import OperationalError as DjangoOperationalError
from django.db.utils import InterfaceError as DjangoInterfaceError
from django.utils.translation import gettext_lazy as _
from psycopg import errors as pg_errors
from rest_framework import status
from rest_framework.exceptions import APIException

#: Seconds a client is told to wait before retrying.
RETRY_AFTER_S = 5


class TemporarilyUnavailable(APIException):
    """503 with ``Retry-After`` (DRF's handler sends ``wait`` as that header)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Le service est momentanément indisponible ; réessayez plus tard.")
    default_code = "unavailable"

    def __init__(self, detail: str | None = None, code: str | None = None) -> None:
        super().__init__(detail, code)
        self.wait = RETRY_AFTER_S


class CacheRequired(TemporarilyUnavailable):
    default_detail = _("Cette opération demande le cache, injoignable ; réessayez plus tard.")
    default_code = "cache_unavailable"


class DatabaseUnavailable(TemporarilyUnavailable):
    default_detail = _("La base de données est injoignable ; réessayez plus tard.")
    default_code = "database_unavailable"


class StatementTimeout(TemporarilyUnavailable):
    default_detail = _("La requête a pris trop de temps et a été annulée ; réessayez plus tard.")
    default_code = "timeout"


#: SQLSTATE classes of a lost or refused connection: 08 connection exception, 57P operator
#: intervention (``pg_terminate_backend``, shutdown), 53 insufficient resources (too many
#: connections).
_CONNECTION_STATES = ("08", "57P", "53")


def translate(exc: Exception) -> Exception:
    """The 503 that an outage exception stands for, or ``exc`` itself."""
    if not isinstance(exc, DjangoOperationalError | DjangoInterfaceError):
        return exc
    cause = exc.__cause__
    timeouts = (
        pg_errors.QueryCanceled,  # statement_timeout
        pg_errors.LockNotAvailable,  # lock_timeout
        pg_errors.IdleInTransactionSessionTimeout,
    )
    if isinstance(cause, timeouts):
        return StatementTimeout()
    if not isinstance(cause, psycopg.Error):
        return exc
    sqlstate = cause.sqlstate
    if isinstance(exc, DjangoInterfaceError) or sqlstate is None:
        return DatabaseUnavailable()  # the connection is gone: psycopg has no SQLSTATE for it
    if sqlstate.startswith(_CONNECTION_STATES):
        return DatabaseUnavailable()
    return exc
