"""No import cycle among the modules of ``apps.notifications`` (grimp's static import graph)."""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "apps.notifications"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Every import statement counts, those inside functions too: deferring an import hides a
    # cycle from the interpreter, not from the reader.
    return grimp.build_graph("apps", cache_dir=None)


def cycles_through(graph: grimp.ImportGraph, package: str) -> list[tuple[str, ...]]:
    """One cycle (as a chain of modules) per import edge of ``package`` that leads back."""
    found = []
    for module in sorted(m for m in graph.modules if m == package or m.startswith(package + ".")):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                found.append((module, *back))
    return found


def test_notifications_imports_have_no_cycle(graph):
    assert cycles_through(graph, PACKAGE) == []


@pytest.mark.parametrize(
    "app",
    [
        "core",
        "news",
        "works",
        "events",
        "residents",
        "recommend",
        "interop",
        "alerts",
        "site",
        "demo",
    ],
)
def test_no_app_imports_have_a_cycle(graph, app):
    """Issue 12's acceptance, for every app: no module of ``apps`` imports its way back to
    itself (import-linter's layers keep the apps acyclic between them; this is within each)."""
    assert cycles_through(graph, f"apps.{app}") == []


def test_cycles_through_finds_a_cycle():
    """The check itself: a two-module cycle added to a graph is found, from both ends."""
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert cycles_through(graph, "pkg") == [
        ("pkg.a", "pkg.b", "pkg.a"),
        ("pkg.b", "pkg.a", "pkg.b"),
    ]


def test_policy_imports_no_model_nor_service(graph):
    """The decision core stays pure: vocabulary, time rules and the neutral push API only."""
    imported = graph.find_modules_directly_imported_by("apps.notifications.policy")
    assert imported <= {
        "apps.core.models",  # the ``Urgency`` enum
        "apps.notifications.codes",
        "apps.notifications.gateway.push",
        "apps.notifications.timing",
    }
