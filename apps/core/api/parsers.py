"""Request body parsing: the one JSON parser of every API view, bounded in depth and numbers.

Python's ``json`` module recurses once per nesting level, so ``[[[[…]]]]`` 100,000 deep raised
``RecursionError`` (a 500), and it reads ``999…9`` (400 digits) as an exact integer that no
coordinate check could turn into a float (``OverflowError``, a 500). This parser reads with
orjson, which parses in bounded native code: it refuses NaN, Infinity, numbers that do not fit
in a double and nesting beyond 1,024 levels, reads integers beyond 64 bits as doubles (so every
number is at most 64 bits: fields then check their own ranges), and checks UTF-8. One
iterative pass (no recursion) then enforces the API's own limits:

- at most ``MAX_DEPTH`` nested arrays/objects (the deepest body we document, a GeoJSON
  MultiPolygon inside a publishing body, needs 6);
- no ``\\u0000`` in text or keys: PostgreSQL text cannot store it.

Anything else is a 400 ``parse_error`` in the API's error shape; a body longer than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (even chunked, without Content-Length) is a 413. The admin's
JSON form fields read through the same ``json_parse`` (``BoundedJSONFormField``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django import forms
from django.conf import settings
from django.forms.fields import InvalidJSONInput, JSONString
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

#: Deepest nesting of arrays and objects accepted in a body.
MAX_DEPTH = 32


def json_check(value: Any) -> None:
    """Raise ``ParseError`` unless ``value`` is within the depth and text limits.

    Iterative, so its cost is bounded by the size of the value whatever its shape.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ParseError(_("Le texte ne peut pas contenir de caractère NUL."))
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise ParseError(
                    _("JSON trop imbriqué (%(n)d niveaux au plus).") % {"n": MAX_DEPTH}
                )
            if isinstance(item, dict):
                stack.extend((key, depth + 1) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)


def json_parse(raw: bytes | str) -> Any:
    """Parse a JSON document with orjson and the API's limits; ``ParseError`` when refused."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        position = {"line": exc.lineno, "column": exc.colno}
        raise ParseError(
            _("JSON illisible (ligne %(line)d, colonne %(column)d).") % position
        ) from None
    json_check(data)
    return data


class BoundedJSONParser(BaseParser):
    """``application/json`` bodies through ``json_parse``; the default parser of every view."""

    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        # Imported here: errors.py imports DRF's views, which import this module by name (the
        # DEFAULT_PARSER_CLASSES setting) while the admin's forms may be importing it.
        from apps.core.api.errors import PayloadTooLarge

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            try:
                raw = raw.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                raise ParseError(
                    _("Le corps n'est pas du %(e)s valide.") % {"e": encoding}
                ) from None
        return json_parse(raw)


class BoundedJSONFormField(forms.JSONField):
    """Django's JSON form field (the admin's) reading through ``json_parse``.

    Django's own calls ``json.loads``, whose ``RecursionError`` on deep nesting (and
    ``ValueError`` on a 5,000-digit integer) escaped as a 500.
    """

    def to_python(self, value: Any) -> Any:
        if self.disabled:
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, list | dict | int | float | JSONString):
            return value
        try:
            converted = json_parse(value)
        except ParseError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return json_parse(data)
        except ParseError:
            return InvalidJSONInput(data)
