"""Access logs without positions: gunicorn's and runserver's request lines, redacted.

A request's query string can carry the resident's live position (``lat``/``lon`` of the feed
and of ``/areas/``, ``near`` and ``bbox`` of the lists). Next to the client address in an
access log that is a location history, which docs/privacy.md promises we never keep. So
before a request is logged:

- the value of every parameter that carries a position (``POSITION_PARAMS``, the names in the
  OpenAPI schema; matched whatever their case or percent-encoding) becomes ``~``;
- any other decimal number is cut to two decimals (about 1 km), wherever it is in the path,
  the query or the referer, in case a position travels under another name (``q=45.7640,4.8357``);
- on the geocoders (``GEOCODE_PATHS``), ``q`` too: it is an address, maybe the resident's own.

Method, path, status, size and timings stay as they were. ``RedactingGunicornLogger`` is
gunicorn's ``logger_class`` (gunicorn.conf.py); ``RedactPositionsFilter`` sits on Django's
``django.server`` logger (runserver; backend/settings.py ``LOGGING``).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger as GunicornLogger

#: Query parameters whose value is a position, in any endpoint of the API.
POSITION_PARAMS = frozenset({"lat", "lon", "near", "bbox"})
REDACTED = "~"
#: Paths whose ``q`` is an address (the geocoding proxy and the staff search box): redacted.
GEOCODE_PATHS = ("/api/v1/geocode/", "/admin/geocode/")
ADDRESS_PARAMS = frozenset({"q"})

# A decimal number with more than two decimals (the dot may be percent-encoded).
_DECIMAL = re.compile(r"(\d(?:\.|%2[eE])\d{2})\d+")
# ``name=value`` of a position parameter inside free text (a malformed request line).
_PARAM_IN_TEXT = re.compile(
    r"(?i)((?:^|[?&;\s])(?:" + "|".join(sorted(POSITION_PARAMS)) + r")=)[^&;\s\"')]*"
)
# ``q=value`` inside free text that names a geocoding path.
_ADDRESS_IN_TEXT = re.compile(r"(?i)((?:^|[?&;\s])q=)[^&;\s\"')]*")


def coarsen(text: str) -> str:
    """``text`` with every decimal number cut to two decimals."""
    return _DECIMAL.sub(r"\1", text)


def redact_query(query: str, *, path: str = "") -> str:
    """A raw query string with position values replaced by ``~`` and other decimals cut (and
    ``q`` too on a geocoding ``path``)."""
    if not query:
        return query
    hidden = POSITION_PARAMS | ADDRESS_PARAMS if _is_geocode(path) else POSITION_PARAMS
    parts = []
    for part in query.split("&"):
        name = part.partition("=")[0]
        if unquote_plus(name).strip().lower() in hidden:
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(coarsen(part))
    return "&".join(parts)


def _is_geocode(path: str) -> bool:
    bare = path.split("://", 1)[-1]
    bare = bare[bare.find("/") :] if "://" in path else bare
    return bare.startswith(GEOCODE_PATHS)


def redact_uri(uri: str) -> str:
    """A request URI or a full URL (referer) with its query redacted and decimals cut."""
    if not uri:
        return uri
    uri, hash_mark, fragment = uri.partition("#")
    path, question_mark, query = uri.partition("?")
    redacted = coarsen(path) + question_mark + redact_query(query, path=path)
    return redacted + hash_mark + (REDACTED if fragment else "")


def redact_text(text: str) -> str:
    """Any log text: a request line (``GET /path?query HTTP/1.1``) or an error message."""
    words = text.split(" ")
    if len(words) == 3 and words[2].startswith("HTTP/"):
        return f"{words[0]} {redact_uri(words[1])} {words[2]}"
    text = _PARAM_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    if any(path in text for path in GEOCODE_PATHS):
        text = _ADDRESS_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return coarsen(text)


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with the request line, path, query and referer redacted.

    Its error log too: "Error handling request /api/v1/feed/?lat=…" quotes the URI.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RedactPositionsFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactPositionsFilter())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "{} {} {}".format(
            environ["REQUEST_METHOD"],
            redact_uri(environ.get("RAW_URI", "")),
            environ["SERVER_PROTOCOL"],
        )
        atoms["U"] = coarsen(atoms.get("U") or "")
        atoms["q"] = redact_query(atoms.get("q") or "", path=environ.get("PATH_INFO", ""))
        atoms["f"] = redact_uri(atoms.get("f") or "-")
        if "{referer}i" in atoms:
            atoms["{referer}i"] = redact_uri(atoms["{referer}i"])
        return atoms


class RedactPositionsFilter(logging.Filter):
    """For ``django.server`` (runserver): redact the request line in the record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_text(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact_text(record.msg)
        return True
