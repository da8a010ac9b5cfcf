"""The schema.org vocabulary, read offline from npm's schema-dts (generated from schema.org).

``make site-test-assets`` installs it under ``testing/site/node_modules`` (not committed).
Its ``schema.d.ts`` declares every type as TypeScript interfaces: ``XLeaf extends YBase``
with ``"@type": "X"``, ``XBase extends YBase { "prop"?: SchemaValue<A | B, "prop"> }``, the
subtypes as ``type X = XLeaf | Sub1 | Sub2`` and enumerations as unions of IRIs. From that we
get, per type, its properties (inherited too) with their ranges, the subtype relation and the
enumeration members: enough to check JSON-LD the way schema.org's validator does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DTS = ROOT / "testing" / "site" / "node_modules" / "schema-dts" / "dist" / "schema.d.ts"
#: schema.org's data types: a literal JSON-LD value fits a range that names one of them.
DATA_TYPES = frozenset(
    {"Text", "URL", "Date", "DateTime", "Time", "Number", "Integer", "Float", "Boolean"}
)

_INTERFACE = re.compile(r"^(?:export )?interface (\w+) extends ([^{\n]+) \{\n(.*?)^\}", re.M | re.S)
_PROPERTY = re.compile(r'^\s+"([\w-]+)"\?: SchemaValue<(.+?), "\1">;', re.M)
_UNION = re.compile(r"^export type (\w+) = (\w+Leaf(?: \| \w+)*);$", re.M)
_ENUM = re.compile(r'^export type (\w+) = ("https://schema\.org/\w+" \|.*);$', re.M)


@dataclass(eq=False)
class Vocabulary:
    interfaces: dict[str, tuple[list[str], dict[str, set[str]]]] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    enumerations: dict[str, set[str]] = field(default_factory=dict)

    def has_type(self, name: str) -> bool:
        return f"{name}Leaf" in self.interfaces

    @cache  # noqa: B019 (one vocabulary per test session)
    def properties(self, type_name: str) -> dict[str, set[str]]:
        """Every property of ``type_name`` (inherited ones too) and its range types."""
        found: dict[str, set[str]] = {}
        pending = [f"{type_name}Leaf"]
        seen: set[str] = set()
        while pending:
            interface = pending.pop()
            if interface in seen or interface not in self.interfaces:
                continue
            seen.add(interface)
            extends, own = self.interfaces[interface]
            for name, ranges in own.items():
                found.setdefault(name, set()).update(ranges)
            pending.extend(extends)
        return found

    def ancestors(self, type_name: str) -> set[str]:
        found = {type_name}
        pending = [type_name]
        while pending:
            for parent in self.parents.get(pending.pop(), ()):
                if parent not in found:
                    found.add(parent)
                    pending.append(parent)
        return found


@cache
def vocabulary() -> Vocabulary:
    if not SCHEMA_DTS.exists():
        raise RuntimeError(f"{SCHEMA_DTS} is missing: run `make site-test-assets` first.")
    text = SCHEMA_DTS.read_text()
    vocab = Vocabulary()
    for name, extends, body in _INTERFACE.findall(text):
        properties = {
            prop: {part.strip() for part in ranges.split("|")} - {"IdReference"}
            for prop, ranges in _PROPERTY.findall(body)
        }
        vocab.interfaces[name] = ([e.strip() for e in extends.split(",")], properties)
    for name, members in _UNION.findall(text):
        for member in members.split(" | ")[1:]:
            vocab.parents.setdefault(member.strip(), set()).add(name)
    for name, members in _ENUM.findall(text):
        vocab.enumerations[name] = set(re.findall(r'"https://schema\.org/(\w+)"', members))
    return vocab
