"""Request body parsing: JSON whose text PostgreSQL can store.

JSON may carry ``\\u0000`` and lone UTF-16 surrogates (``\\ud800``); neither can be stored
in a PostgreSQL text column nor encoded as UTF-8, so a body containing them is refused with a
400 ``parse_error`` before any field sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check(value: Any) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ParseError(_("Text may not contain NUL characters or lone surrogates."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing text that cannot be stored."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _check(data)
        return data
