"""CAP 1.2 validation: the OASIS XML Schema (``cap-1.2/cap12.xsd`` under
``INTEROP_STANDARDS_DIR``, loaded offline with ``xmlschema``), then the rules of the
specification the schema cannot say (§3.2.1 to §3.2.4): identifiers and senders without
spaces, commas, ``<`` or ``&``; ``references`` as ``sender,identifier,sent`` triples, required
by an update or a cancel; closed polygons of at least four ``lat,lon`` pairs in range; circles
``lat,lon radius``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import xmlschema
from django.conf import settings
from lxml import etree

from apps.alerts.cap.geometry import AreaSyntaxError, circle_from_text, polygon_from_text

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
NS = {"cap": CAP_NS}
_FORBIDDEN = re.compile(r"[\s,<&]")
_SENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


class StandardsMissingError(RuntimeError):
    """The CAP schema is not where ``INTEROP_STANDARDS_DIR`` says."""


def xsd_path() -> Path:
    path = Path(settings.INTEROP_STANDARDS_DIR) / "cap-1.2" / "cap12.xsd"
    if not path.is_file():
        raise StandardsMissingError(
            f"The CAP 1.2 schema is missing: {path} (INTEROP_STANDARDS_DIR, docs/alerts.md)."
        )
    return path


@functools.cache
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(xsd_path())


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def spec_errors(root: etree._Element) -> list[str]:
    """The CAP 1.2 rules beyond the schema, broken by the ``alert`` ``root``."""
    errors = []
    for name in ("identifier", "sender"):
        value = _text(root, f"cap:{name}")
        if _FORBIDDEN.search(value):
            errors.append(f"{name} contains a space, comma, < or &")
    msg_type = _text(root, "cap:msgType")
    references = _text(root, "cap:references")
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        errors.append(f"a {msg_type} message needs references")
    for triple in references.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts) or not _SENT.match(parts[2]):
            errors.append(f"reference is not sender,identifier,sent: {triple[:80]}")
    for polygon in root.iterfind("cap:info/cap:area/cap:polygon", NS):
        try:
            polygon_from_text(polygon.text or "")
        except AreaSyntaxError as error:
            errors.append(f"polygon: {error}")
    for circle in root.iterfind("cap:info/cap:area/cap:circle", NS):
        try:
            circle_from_text(circle.text or "")
        except AreaSyntaxError as error:
            errors.append(f"circle: {error}")
    return errors


def cap_errors(document: bytes, *, limit: int = 5) -> list[str]:
    """The schema and specification errors of a CAP document (empty when valid)."""
    try:
        root = etree.fromstring(document, parser=_parser())
    except etree.XMLSyntaxError as error:
        return [f"not XML: {error}"]
    if root.tag != f"{{{CAP_NS}}}alert":
        return [f"not a CAP 1.2 alert: root element {root.tag[:80]}"]
    errors = [f"{error.path}: {error.reason}"[:300] for error in cap_schema().iter_errors(root)][
        :limit
    ]
    if not errors:
        errors = spec_errors(root)[:limit]
    return errors


def _parser() -> etree.XMLParser:
    # No entities, no network, no huge trees: a CAP document is untrusted input. A parser per
    # call: lxml parsers are not shared between threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
    )


def safe_parser() -> etree.XMLParser:
    return _parser()
