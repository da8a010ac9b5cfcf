"""Production start-up: the app refuses a default or short secret key and a silent ``log`` push
backend; a worker refuses a bad FCM credentials file. Each start runs in a subprocess with a
production environment (``DJANGO_DEBUG`` off), as gunicorn and Celery would start it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.checks import KNOWN_KEYS
from testing.fakefcm.credentials import make_service_account

BASE_DIR = Path(settings.BASE_DIR)
BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
GOOD_KEY = secrets.token_urlsafe(50)
#: What gunicorn does when it loads the app (``gunicorn backend.wsgi``).
WSGI_START = [sys.executable, "-c", "import backend.wsgi"]


def env_example_key() -> str:
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.startswith("DJANGO_SECRET_KEY="):
            return line.split("=", 1)[1]
    raise AssertionError(".env.example has no DJANGO_SECRET_KEY")


def production_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A production environment: none of the test settings, DEBUG off, ``variables`` added."""
    dropped = ("DJANGO_", "PUSH_BACKEND", "FCM_", "CELERY_", "DATABASE_URL", "CACHE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL", "postgis:///quartier"),
        QUARTIER_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    env.update(variables)
    return env


def run(command: list[str], env: dict[str, str], timeout_s: float = 120) -> tuple[int, str]:
    result = subprocess.run(
        command,
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def service_account_file(tmp_path: Path) -> Path:
    account = make_service_account(
        tmp_path / "service-account.json", token_uri="http://127.0.0.1:9/token"
    )
    assert account.path is not None
    return account.path


def test_the_env_example_key_is_a_known_default():
    assert env_example_key() in KNOWN_KEYS


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "quartier.E001: DJANGO_SECRET_KEY is a published default value"),
        ({"DJANGO_SECRET_KEY": "from-env-example"}, "published default value"),
        ({"DJANGO_SECRET_KEY": "s3cr3t-but-short-Xy9"}, "too weak: 20 characters"),
        ({"DJANGO_SECRET_KEY": "a" * 80}, "too weak: 80 characters, 1 distinct"),
        (
            {"DJANGO_SECRET_KEY": GOOD_KEY},
            "quartier.E002: No push backend: without FCM_CREDENTIALS_FILE",
        ),
        (
            {"DJANGO_SECRET_KEY": GOOD_KEY, "PUSH_BACKEND": "fcm"},
            "quartier.E003: PUSH_BACKEND=fcm needs FCM_CREDENTIALS_FILE",
        ),
    ],
    ids=["no-key", "env-example-key", "short-key", "repetitive-key", "silent-log", "fcm-no-file"],
)
def test_wsgi_start_refuses_an_insecure_production_environment(tmp_path, variables, expected):
    if variables.get("DJANGO_SECRET_KEY") == "from-env-example":
        variables = {**variables, "DJANGO_SECRET_KEY": env_example_key()}
    variables.setdefault("PUSH_BACKEND", "log")
    if "E002" in expected:
        del variables["PUSH_BACKEND"]

    code, output = run(WSGI_START, production_env(tmp_path, **variables))

    assert code != 0
    assert "Quartier refuses to start in production (DJANGO_DEBUG off)" in output
    assert expected in output


@pytest.mark.parametrize(
    "variables",
    [
        {"DJANGO_SECRET_KEY": GOOD_KEY, "PUSH_BACKEND": "log"},
        {"DJANGO_SECRET_KEY": GOOD_KEY, "FCM_CREDENTIALS_FILE": "<service account>"},
        {"DJANGO_DEBUG": "1"},  # make run: the dev key and the log backend are fine
    ],
    ids=["explicit-log", "fcm", "debug"],
)
def test_wsgi_start_accepts_a_sound_environment(tmp_path, variables):
    if variables.get("FCM_CREDENTIALS_FILE"):
        variables = {**variables, "FCM_CREDENTIALS_FILE": str(service_account_file(tmp_path))}

    code, output = run(WSGI_START, production_env(tmp_path, **variables))

    assert code == 0, output
    assert "refuses" not in output


def test_manage_py_check_reports_the_start_up_errors(tmp_path):
    code, output = run([sys.executable, "manage.py", "check"], production_env(tmp_path))

    assert code == 1
    assert "(quartier.E001)" in output
    assert "(quartier.E002)" in output


# --- Celery worker ---------------------------------------------------------------------------


def worker_command() -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo",
        "-Q", f"startcheck-{os.getpid()}", "-n", f"startcheck-{os.getpid()}@localhost",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip


def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text('{"type": "service_account", "project_id": "x", "private_key": "nope"}')
    return path


def unreadable(tmp_path: Path) -> Path:
    path = service_account_file(tmp_path)
    path.chmod(0)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (lambda tmp_path: tmp_path / "nowhere.json", "No such file or directory"),
        (garbage, "service-account.json"),
        pytest.param(
            unreadable,
            "Permission denied",
            marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file"),
        ),
    ],
    ids=["missing", "garbage", "unreadable"],
)
def test_worker_start_stops_on_a_bad_fcm_credentials_file(tmp_path, make_file, expected):
    path = make_file(tmp_path)
    env = production_env(
        tmp_path,
        DJANGO_SECRET_KEY=GOOD_KEY,
        FCM_CREDENTIALS_FILE=str(path),
        CELERY_BROKER_URL=BROKER_URL,
    )

    code, output = run(worker_command(), env, timeout_s=60)

    assert code != 0
    assert "Quartier worker refuses to start" in output
    assert f"FCM_CREDENTIALS_FILE {path}" in output
    assert expected in output


@pytest.mark.slow
def test_worker_start_refuses_the_default_secret_key(tmp_path):
    env = production_env(tmp_path, PUSH_BACKEND="log", CELERY_BROKER_URL=BROKER_URL)

    code, output = run(worker_command(), env, timeout_s=60)

    assert code != 0
    assert "quartier.E001" in output


@pytest.mark.slow
def test_worker_starts_with_good_fcm_credentials(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_SECRET_KEY=GOOD_KEY,
        FCM_CREDENTIALS_FILE=str(service_account_file(tmp_path)),
        CELERY_BROKER_URL=BROKER_URL,
    )
    worker = subprocess.Popen(
        worker_command(),
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert worker.stdout is not None
        seen = []
        for line in worker.stdout:
            seen.append(line)
            if " ready." in line:  # Celery's "celery@… ready." once it consumes
                break
        output = "".join(seen)
        assert "push backend fcm ready" in output
        assert worker.poll() is None, output
    finally:
        worker.terminate()
        worker.wait(30)
