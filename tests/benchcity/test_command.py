"""``manage.py bench_city``: what it prints, and the databases it refuses."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from apps.core.models import Organization
from apps.residents.models import Device
from bench.city import build as build_module

TINY = ["--devices", "40", "--items", "30", "--interactions", "100", "--token-sample", "10"]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("bench_city", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_command_builds_and_writes_the_manifest(tmp_path):
    manifest = tmp_path / "bench" / "city.json"
    output = _run(*TINY, "--seed", "3", "--manifest", str(manifest))

    assert "Bench city (seed 3) built in" in output
    assert "residents_device" in output and "copy interactions" in output
    assert Device.objects.count() == 40
    data = json.loads(manifest.read_text())
    assert data["seed"] == 3 and len(data["devices"]) == 10
    assert oct(manifest.stat().st_mode & 0o777) == "0o600"  # clear tokens: owner only


@pytest.mark.django_db
def test_command_refuses_to_rebuild_without_reset(tmp_path):
    _run(*TINY, "--manifest", str(tmp_path / "a.json"))
    with pytest.raises(CommandError, match="--reset"):
        _run(*TINY, "--manifest", str(tmp_path / "b.json"))
    _run(*TINY, "--reset", "--manifest", str(tmp_path / "b.json"))
    assert Device.objects.count() == 40


@pytest.mark.django_db
def test_command_refuses_a_database_with_other_data(tmp_path):
    Organization.objects.create(slug="ville", name="Ville de Lyonnay")
    for extra in ([], ["--reset"]):
        with pytest.raises(CommandError, match="did not make"):
            _run(*TINY, *extra, "--manifest", str(tmp_path / "m.json"))
    assert Organization.objects.filter(slug="ville").exists()
    assert not Device.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["--devices", "--items", "--interactions"])
def test_command_rejects_empty_sizes(tmp_path, name):
    with pytest.raises(CommandError, match=f"{name} must be at least 1"):
        _run(name, "0", "--manifest", str(tmp_path / "m.json"))


@pytest.mark.django_db(databases=["default", "spatialite"])
def test_command_refuses_spatialite(monkeypatch, tmp_path):
    monkeypatch.setattr(build_module, "connection", connections["spatialite"])
    with pytest.raises(CommandError, match="PostGIS"):
        _run(*TINY, "--manifest", str(tmp_path / "m.json"))
