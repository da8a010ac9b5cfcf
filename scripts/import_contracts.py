"""An import-linter contract type: other apps import only an app's public modules.

import-linter has no such contract: ``protected`` would need every private module listed, and
a new module would then be public by default. Here the public modules are listed instead, so a
new module is private until the list (and docs/boundaries.md) says otherwise.
"""

from __future__ import annotations

import re
from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output


def _matcher(expressions: list[str]) -> list[re.Pattern[str]]:
    return [re.compile("^" + _regex(e) + "$") for e in expressions]


def _regex(expression: str) -> str:
    out = ""
    for index, name in enumerate(expression.split(".")):
        dot = r"\." if index else ""
        if name == "**":
            out += r"(?:\.[^.]+)*" if index else r"[^.]+(?:\.[^.]+)*"
        elif name == "*":
            out += dot + r"[^.]+"
        else:
            out += dot + re.escape(name)
    return out


class PublicModulesContract(Contract):
    """Across the apps in ``containers``, only ``public`` modules (relative to an app) and the
    ``extras`` (absolute) may be imported by another app; ``exempt_importers`` are not checked.
    """

    type_name = "public_modules"

    containers = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    extras = fields.ListField(subfield=fields.StringField(), required=False)
    exempt_importers = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        containers: list[str] = list(self.containers)  # type: ignore[call-overload]
        public = _matcher(list(self.public))  # type: ignore[call-overload]
        extras = _matcher(list(self.extras or []))  # type: ignore[call-overload]
        exempt = _matcher(list(self.exempt_importers or []))  # type: ignore[call-overload]

        def app_of(module: str) -> str | None:
            for container in containers:
                if module == container or module.startswith(container + "."):
                    return container
            return None

        illegal: list[dict[str, Any]] = []
        for importer in sorted(graph.modules):
            source = app_of(importer)
            if source is None or any(p.match(importer) for p in exempt):
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = app_of(imported)
                if target is None or target == source:
                    continue
                relative = imported[len(target) + 1 :]
                if any(p.match(relative) for p in public) or any(p.match(imported) for p in extras):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = sorted({d["line_number"] for d in details})
                illegal.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("Imports of another app's private modules:", bold=False)
        output.new_line()
        for link in check.metadata["illegal"]:
            lines = ", ".join(map(str, link["lines"]))
            output.print_error(
                f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False
            )
        output.new_line()
        output.print_error(
            "Import its models, selectors, services or signals instead, or document a new public "
            "module in docs/boundaries.md and .importlinter.",
            bold=False,
        )
