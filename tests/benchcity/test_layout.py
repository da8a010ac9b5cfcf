"""Where the bench city and the shared test kit live: nothing in apps/ imports them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Packages that only tests, benchmarks and the bench settings may import.
OFF_LIMITS = ("bench", "testing")


def imported_modules(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_apps_import_neither_bench_nor_testing():
    offenders = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in (ROOT / "apps").rglob("*.py")
        for name in imported_modules(source)
        if name.split(".")[0] in OFF_LIMITS
    }
    assert not offenders


def test_the_bench_city_and_the_test_kit_left_apps():
    assert not (ROOT / "apps" / "benchcity").exists()
    assert (ROOT / "bench" / "city" / "management" / "commands" / "bench_city.py").is_file()
    for shared in ("fakefcm/__init__.py", "pushworker.py", "faultservers.py"):
        assert (ROOT / "testing" / shared).is_file()
        assert not (ROOT / "bench" / shared).exists()
