"""The lock files (pip-compile, hashes) agree with the pinned requirements; the dependency audit
fails on a known vulnerability and says so plainly when it cannot reach its database (no
network in tests: pip-audit's JSON report is given to the script's decision)."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)", re.M)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {canonical(name): version for name, version in PIN.findall(path.read_text())}


def hashed_entries(path: Path) -> list[str]:
    """Each requirement of a lock file with its continuation lines, as one string."""
    text = path.read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if PIN.match(line)]


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [
        (["requirements.txt"], "requirements.lock"),
        (["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock"),
    ],
)
def test_lock_file_pins_every_requirement_at_its_version(requirements, lock):
    locked = pins(BASE_DIR / lock)
    for name in requirements:
        wanted = pins(BASE_DIR / name)
        stale = {p: v for p, v in wanted.items() if locked.get(p) != v}
        assert not stale, f"{lock} is stale for {stale} of {name}: run `make lock`"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_lock_file_has_a_hash_for_every_package(lock):
    entries = hashed_entries(BASE_DIR / lock)
    assert len(entries) > 50
    unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
    assert not unhashed


def test_runtime_and_dev_locks_agree_on_shared_packages():
    runtime, dev = pins(BASE_DIR / "requirements.lock"), pins(BASE_DIR / "requirements-dev.lock")
    assert {p: (v, dev.get(p)) for p, v in runtime.items() if dev.get(p) != v} == {}


def audit_module():
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", BASE_DIR / "scripts" / "audit_dependencies.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_says_it_is_skipped_when_the_database_is_unreachable():
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**os.environ, "PIP_AUDIT_PROBE_URL": f"http://127.0.0.1:{port}/pypi/pip/24.0/json"}

    result = subprocess.run(
        [sys.executable, "scripts/audit_dependencies.py", "requirements.lock"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("pip-audit: SKIPPED, the vulnerability database is unreachable")
    assert "Connection refused" in result.stdout


VULNERABLE = {"name": "django", "version": "4.2.0", "vulns": [
    {"id": "PYSEC-2023-100", "fix_versions": ["4.2.2"], "aliases": [], "description": "…"}
]}  # fmt: skip
CLEAN = {"name": "sqlparse", "version": "0.6.1", "vulns": []}
NOT_FOUND = "Dependency not found on PyPI and could not be audited"


def test_audit_fails_on_a_known_vulnerability():
    code, lines = audit_module().summarise({"dependencies": [CLEAN, VULNERABLE], "fixes": []})

    assert code == 1
    assert "VULNERABLE django 4.2.0: PYSEC-2023-100 (fixed in 4.2.2)" in lines
    assert lines[-1] == "pip-audit: 2 packages audited, 1 vulnerable, 0 not audited"


def test_audit_passes_when_nothing_is_known():
    code, lines = audit_module().summarise({"dependencies": [CLEAN], "fixes": []})

    assert (code, lines) == (0, ["pip-audit: 1 packages audited, 0 vulnerable, 0 not audited"])


def test_audit_is_skipped_not_passed_when_no_package_could_be_audited():
    """A mirror without per-release data answers 404 for each package; pip-audit exits 0."""
    report = {"dependencies": [{"name": n, "skip_reason": f"{NOT_FOUND}: {n}"} for n in "ab"]}

    code, [line] = audit_module().summarise(report)

    assert code == 0
    assert line.startswith("pip-audit: SKIPPED, the vulnerability database is unreachable")


def test_audit_fails_when_some_packages_could_not_be_audited():
    report = {"dependencies": [CLEAN, {"name": "x", "skip_reason": f"{NOT_FOUND}: x (1.0)"}]}

    code, lines = audit_module().summarise(report)

    assert code == 1
    assert f"NOT AUDITED x: {NOT_FOUND}: x (1.0)" in lines
