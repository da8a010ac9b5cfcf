"""The import contracts of .importlinter (docs/boundaries.md) hold, and catch a forbidden import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_boundaries_hold_on_the_project():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def _project(tmp_path: Path, importer_source: str) -> Path:
    """A two-app project checked by the public-modules contract type of scripts/."""
    files = {
        "city/__init__.py": "",
        "city/content/__init__.py": "",
        "city/content/models.py": "TITLE = 1\n",
        "city/content/admin.py": "FORM = 1\n",
        "city/alerts/__init__.py": "",
        "city/alerts/tasks.py": importer_source,
        "scripts/import_contracts.py": (ROOT / "scripts/import_contracts.py").read_text(),
        ".importlinter": textwrap.dedent(
            """
            [importlinter]
            root_package = city
            contract_types =
                public_modules: scripts.import_contracts.PublicModulesContract

            [importlinter:contract:public]
            name = Public modules only
            type = public_modules
            containers =
                city.content
                city.alerts
            public =
                models
            """
        ),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_boundaries_public_modules_contract_keeps_an_import_of_models(tmp_path):
    result = _lint(_project(tmp_path, "from city.content.models import TITLE\n"))
    assert result.returncode == 0, result.stdout[-2000:]


def test_boundaries_public_modules_contract_breaks_on_a_private_module(tmp_path):
    result = _lint(_project(tmp_path, "from city.content.admin import FORM\n"))
    assert result.returncode == 1, result.stdout[-2000:]
    assert "- city.alerts.tasks -> city.content.admin (l.1)" in result.stdout
