"""The trail as a CADA export: CSV (semicolon-separated, as French spreadsheets read it) or
JSON lines, with French headers, written as it is read (never the whole trail in memory)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit.trail import TrailRow


def headers() -> list[tuple[str, str]]:
    """``(attribute, French header)`` of each column, in order."""
    return [
        ("at", _("Date")),
        ("actor", _("Auteur")),
        ("role", _("Rôle")),
        ("action", _("Action")),
        ("object_type", _("Objet")),
        ("object_id", _("Numéro")),
        ("object_label", _("Intitulé")),
        ("organization", _("Organisation")),
        ("field", _("Champ")),
        ("old", _("Ancienne valeur")),
        ("new", _("Nouvelle valeur")),
        ("reason", _("Motif")),
    ]


def _cells(row: TrailRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name, _header in headers()}
    values["at"] = timezone.localtime(row.at).isoformat(timespec="seconds")
    return values


class _Echo:
    """A file-like object that hands back what is written (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[TrailRow]) -> Iterator[str]:
    """The CSV file, line by line: a BOM (so spreadsheets read UTF-8), the headers, the rows."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow([header for _name, header in headers()])
    names = [name for name, _header in headers()]
    for row in rows:
        cells = _cells(row)
        yield writer.writerow([cells[name] for name in names])


def json_lines(rows: Iterable[TrailRow]) -> Iterator[str]:
    """A JSON array, one row an object keyed by the French headers."""
    columns = headers()
    yield "[\n"
    first = True
    for row in rows:
        cells = _cells(row)
        item = {header: cells[name] for name, header in columns}
        yield ("" if first else ",\n") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "\n]\n"
