"""Audit the locked dependencies for known vulnerabilities with pip-audit (PyPI's advisory data).

    .venv/bin/python scripts/audit_dependencies.py [LOCK_FILE ...]  (default: the dev lock)

Exit 1 when a locked version has a known vulnerability, or when some packages could not be
audited although the database answered for others. When the database cannot be reached at all
(no internet, or a PyPI mirror without per-release data, which pip-audit would report as
"not found" for every package and exit 0 on), print one line starting with
``pip-audit: SKIPPED`` and exit 0, so that the rest of CI goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: One release's JSON: what pip-audit reads for every locked package (with its advisories).
PROBE_URL = os.environ.get("PIP_AUDIT_PROBE_URL", "https://pypi.org/pypi/pip/24.0/json")
SKIPPED = "pip-audit: SKIPPED, the vulnerability database is unreachable"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def database_problem(url: str = PROBE_URL) -> str | None:
    """Why the vulnerability database cannot be used from here, or None."""
    try:
        with urllib.request.urlopen(url, timeout=15) as answer:
            if "vulnerabilities" not in json.load(answer):
                return f"{url}: no vulnerability data in the answer"
    except Exception as error:  # whatever the failure, the audit cannot run here
        return f"{url}: {type(error).__name__}: {error}"
    return None


def summarise(report: dict[str, Any]) -> tuple[int, list[str]]:
    """Exit status and lines to print for pip-audit's JSON report (``--format json``)."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            lines.append(
                f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
            )
    if dependencies and len(skipped) == len(dependencies):
        return 0, [f"{SKIPPED} (no package could be audited: {skipped[0]['skip_reason']})"]
    for dep in skipped:
        lines.append(f"NOT AUDITED {dep['name']}: {dep['skip_reason']}")
    audited = len(dependencies) - len(skipped)
    lines.append(
        f"pip-audit: {audited} packages audited, {len(vulnerable)} vulnerable, "
        f"{len(skipped)} not audited"
    )
    return (1 if vulnerable or skipped else 0), lines


def audit(lock: Path) -> dict[str, Any]:
    """pip-audit's JSON report of one fully pinned lock file (nothing installed or resolved)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run(
            [
                str(Path(sys.executable).with_name("pip-audit")),
                *("--disable-pip", "--require-hashes", "--progress-spinner", "off"),
                *("--format", "json", "--output", output.name, "-r", str(lock)),
            ],
            check=False,
        )
        text = Path(output.name).read_text() or "{}"
    return dict(json.loads(text))


def main(argv: list[str]) -> int:
    locks = [Path(a) for a in argv] or [ROOT / "requirements-dev.lock"]
    problem = database_problem()
    if problem:
        say(f"{SKIPPED} ({problem})")
        return 0
    status = 0
    for lock in locks:
        say(f"pip-audit: {lock}")
        code, lines = summarise(audit(lock))
        say("\n".join(lines))
        status = max(status, code)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
