"""The recommender's layout by role: a pure engine, offline beside online, scikit-learn's homes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECOMMEND = ROOT / "apps" / "recommend"
ENGINE = "apps.recommend.engine"
# architecture.md §2 keeps scikit-learn in apps/recommend/; within it, these modules and no others
# (the same list as ruff's per-file TID251 exemption in pyproject.toml).
SKLEARN_HOMES = frozenset(
    {"apps.recommend.engine.text_vectors", "apps.recommend.offline.fitting", "apps.recommend.store"}
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, anywhere in it (lazy imports in functions included),
    relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found.add(prefix)
            # ``from pkg import module`` imports a module too.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def package_imports(package_dir: Path) -> dict[str, set[str]]:
    return {
        module_name(path): imports_in(
            path.read_text(), module_name(path), is_package=path.name == "__init__.py"
        )
        for path in sorted(package_dir.rglob("*.py"))
        if "migrations" not in path.parts
    }


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_layout_import_walk_sees_lazy_relative_and_from_imports():
    source = (
        "import numpy as np\n"
        "from . import ranking\n"
        "from .features import FEATURE_NAMES\n"
        "def f():\n"
        "    from django.conf import settings\n"
    )
    found = imports_in(source, "apps.recommend.engine.explain")
    assert {"numpy", "django.conf", "apps.recommend.engine.ranking"} <= found
    assert "apps.recommend.engine.features" in found
    assert not _within("apps.recommend.engine_extra", ENGINE)


def test_layout_engine_imports_no_django_no_drf_and_no_other_app():
    modules = package_imports(RECOMMEND / "engine")
    assert {"apps.recommend.engine.ranking", "apps.recommend.engine.features"} <= set(modules)
    offences = sorted(
        f"{module} imports {name}"
        for module, names in modules.items()
        for name in names
        if name.split(".")[0] in {"django", "rest_framework", "rest_framework_gis"}
        or name.split(".")[0] in {"backend", "bench", "tests"}
        or (name.split(".")[0] == "apps" and not _within(name, ENGINE))
    )
    assert offences == []


def test_layout_engine_loads_no_django_even_transitively():
    modules = sorted(package_imports(RECOMMEND / "engine"))
    code = (
        "import sys\n"
        f"for name in {modules!r}: __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')"
        f" or (m.startswith('apps.') and m not in ('apps.recommend',)"
        f" and not (m == {ENGINE!r} or m.startswith({ENGINE + '.'!r})))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_layout_online_never_imports_offline():
    """The feed serves what the store holds; fitting and evaluation stay out of web workers."""
    offences = sorted(
        f"{module} imports {name}"
        for module, names in package_imports(RECOMMEND / "online").items()
        for name in names
        if _within(name, "apps.recommend.offline")
    )
    assert offences == []


def test_layout_only_the_designated_modules_import_sklearn():
    importers = {
        module
        for top in ("apps", "backend", "bench")
        for module, names in package_imports(ROOT / top).items()
        if any(_within(name, "sklearn") for name in names)
    }
    assert importers == SKLEARN_HOMES
