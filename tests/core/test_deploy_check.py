"""``manage.py check --deploy`` with the production environment documented in docs/deploy.md
(§4, the ``sh`` block) finds nothing, warnings included."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
DEPLOY_GUIDE = BASE_DIR / "docs" / "deploy.md"


def documented_environment() -> dict[str, str]:
    """The variables of the block that follows "the documented production environment"."""
    text = DEPLOY_GUIDE.read_text(encoding="utf-8")
    start = text.index("**the documented production environment**")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block is not None
    variables = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            variables[name] = value
    return variables


def test_the_documented_environment_is_a_production_one():
    variables = documented_environment()

    assert "DJANGO_DEBUG" not in variables
    assert variables["SITE_URL"].startswith("https://")
    assert variables["FCM_CREDENTIALS_FILE"]  # pushes go to FCM, not to the log


def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    variables = documented_environment()
    # Only the placeholders are filled in; directories are made under tmp_path (settings create
    # STATIC_ROOT) instead of /srv.
    variables["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    variables["DATABASE_URL"] = variables["DATABASE_URL"].replace("<password>", "pw")
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        variables[name] = variables[name].replace("/srv/quartier", str(tmp_path))
    assert not any("<" in value for value in variables.values()), variables
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))}
    for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "PUSH_BACKEND"):
        env.pop(name, None)
    env.update(variables, QUARTIER_VAR_DIR=str(tmp_path / "var"))

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
