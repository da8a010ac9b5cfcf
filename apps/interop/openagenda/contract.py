"""The OpenAgenda v3 contract (``openagenda-v3/openapi.yaml``), loaded offline, and validation.

The OpenAPI 3.1 file's schemas are JSON Schema 2020-12. A validator is built per component
(``#/components/schemas/<name>``) over the whole ``components`` table, so that every ``$ref`` of
the file resolves locally; nothing is ever fetched. Every page we parse and every body we send
is checked against it (docs/interop.md, "OpenAgenda").
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from apps.interop.standards import InvalidDocumentError, standards_dir

STANDARD = "OpenAgenda v3"


@functools.cache
def spec() -> dict[str, Any]:
    path = standards_dir() / "openagenda-v3/openapi.yaml"
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A validator of the component schema ``name`` (``Event``, ``EventList``, ``EventInput``…)."""
    components = spec()["components"]
    if name not in components["schemas"]:
        raise KeyError(f"no schema {name!r} in the OpenAgenda contract")
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return Draft202012Validator(schema)


def errors(document: Any, name: str, *, limit: int = 5) -> list[str]:
    """The first errors of ``document`` against schema ``name``, with their JSON paths."""
    found = []
    for error in validator(name).iter_errors(document):
        found.append(f"{error.json_path}: {error.message[:300]}")
        if len(found) >= limit:
            break
    return found


def validate(document: Any, name: str) -> None:
    """Raise ``InvalidDocumentError`` unless ``document`` follows schema ``name``."""
    found = errors(document, name, limit=3)
    if found:
        raise InvalidDocumentError(f"{STANDARD} ({name})", "; ".join(found))


def parameter_schema(name: str) -> dict[str, Any]:
    """The schema of a query parameter component (``Limit``, ``AfterCursor``…)."""
    parameter: dict[str, Any] = spec()["components"]["parameters"][name]
    return parameter["schema"]


def example(name: str) -> Any:
    """The ``example`` of schema ``name`` (the contract's own fixtures)."""
    return spec()["components"]["schemas"][name]["example"]
