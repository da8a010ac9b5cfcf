"""The standards' schemas, loaded offline from ``INTEROP_STANDARDS_DIR``, and validation.

WZDx 4.2 is checked with ``jsonschema`` (draft 7); the GeoJSON schemas its ``$ref`` names by
URL are registered in a local ``referencing.Registry`` under their ``$id``, so nothing is ever
fetched. CIFS v2 and DATEX II v3 (with DiaLog's extensions, top file
``DATEXII_3_D2Payload.xsd``) are checked with ``xmlschema``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import xmlschema
from django.conf import settings
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


class StandardsMissingError(RuntimeError):
    """The schema files are not where ``INTEROP_STANDARDS_DIR`` says."""


class InvalidDocumentError(ValueError):
    """A document does not follow its standard; ``detail`` names the place and the rule."""

    def __init__(self, standard: str, detail: str) -> None:
        super().__init__(f"{standard}: {detail}")
        self.standard = standard
        self.detail = detail


def standards_dir() -> Path:
    path = Path(settings.INTEROP_STANDARDS_DIR)
    if not (path / "wzdx-4.2").is_dir():
        raise StandardsMissingError(
            f"The standards' schema files are missing from {path} (INTEROP_STANDARDS_DIR): "
            "copy ../shared/standards there (docs/interop.md)."
        )
    return path


@functools.cache
def wzdx_validator() -> Draft7Validator:
    root = standards_dir()
    resources = []
    for path in [
        *sorted((root / "wzdx-4.2/schemas").glob("*.json")),
        *sorted((root / "geojson").glob("*.json")),
    ]:
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, DRAFT7)))
    registry: Registry = Registry().with_resources(resources)
    feed = json.loads((root / "wzdx-4.2/schemas/WorkZoneFeed.json").read_text())
    return Draft7Validator(feed, registry=registry)


@functools.cache
def cifs_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(standards_dir() / "waze-cifs-2/cifsv2.xsd")


@functools.cache
def datex2_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(standards_dir() / "datex2-3/DATEXII_3_D2Payload.xsd")


def wzdx_errors(document: Any, *, limit: int = 5) -> list[str]:
    """The first schema errors of a WZDx feed, each with its JSON path (empty when valid)."""
    errors = []
    for error in wzdx_validator().iter_errors(document):
        errors.append(f"{error.json_path}: {error.message[:300]}")
        if len(errors) >= limit:
            break
    return errors


def wzdx_validate(document: Any) -> None:
    errors = wzdx_errors(document, limit=3)
    if errors:
        raise InvalidDocumentError("WZDx 4.2", "; ".join(errors))


def xml_validate(schema: xmlschema.XMLSchema, document: str | bytes, standard: str) -> None:
    """Validate XML text against ``schema``; entities and DTDs are refused (defused parser)."""
    source = document.decode() if isinstance(document, bytes) else document
    try:
        errors = list(schema.iter_errors(xmlschema.XMLResource(source, defuse="always")))
    except (xmlschema.XMLSchemaException, SyntaxError, ValueError) as exc:
        raise InvalidDocumentError(standard, str(exc).splitlines()[0][:300]) from exc
    if errors:
        first = errors[0]
        path = getattr(first, "path", "") or ""
        reason = getattr(first, "reason", None) or str(first).splitlines()[0]
        raise InvalidDocumentError(standard, f"{path}: {reason}"[:400])
