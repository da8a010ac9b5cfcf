"""The erasure log: every erasure is recorded outside the database and replayed after a restore."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.residents.models import Device, Place
from apps.residents.services import devices_purge_inactive
from tests.residents.factories import PlaceFactory, make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def erasure_log(settings, tmp_path):
    settings.ERASURE_LOG_PATH = str(tmp_path / "erasures.jsonl")
    return tmp_path / "erasures.jsonl"


def _dump(device: Device) -> dict:
    """What a backup holds about the device: its row and its places' rows."""
    return {
        "device": Device.objects.filter(pk=device.pk).values()[0],
        "places": list(Place.objects.filter(device=device).values()),
    }


def _restore(dump: dict) -> None:
    """A restore of an older dump brings the rows back as they were (ids included)."""
    row = dump["device"]
    Device.objects.bulk_create([Device(**row)])
    # ``auto_now_add`` stamped the insert with now: a restore keeps the dumped value.
    Device.objects.filter(pk=row["id"]).update(created_at=row["created_at"])
    Place.objects.bulk_create([Place(**row) for row in dump["places"]])


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_erasure_log_records_delete_me_with_nothing_but_what_replay_needs(erasure_log):
    resident = make_resident(personalization_consent=True)
    PlaceFactory(device=resident.device, name="Chez Mamie")

    assert resident.client.delete("/api/v1/me/").status_code == 204

    [line] = _lines(erasure_log)
    assert set(line) == {"v", "at", "device", "registered_at", "reason"}
    assert line["device"] == resident.device.pk and line["reason"] == "request"
    assert "Mamie" not in erasure_log.read_text()


def test_erasure_log_replay_erases_devices_a_restore_brought_back(erasure_log):
    erased, kept = make_resident(), make_resident()
    PlaceFactory(device=erased.device)
    PlaceFactory(device=kept.device)
    backup = _dump(erased.device)
    assert erased.client.delete("/api/v1/me/").status_code == 204
    _restore(backup)
    assert Device.objects.filter(pk=erased.device.pk).exists()

    out = StringIO()
    call_command("replay_erasures", stdout=out)

    assert not Device.objects.filter(pk=erased.device.pk).exists()
    assert not Place.objects.filter(device_id=erased.device.pk).exists()
    assert Place.objects.filter(device=kept.device).count() == 1
    assert out.getvalue().startswith("1 erased")
    # Idempotent: a second run finds nothing and changes nothing.
    call_command("replay_erasures", stdout=(again := StringIO()))
    assert again.getvalue().startswith("0 erased")
    assert Device.objects.filter(pk=kept.device.pk).exists()


def test_erasure_log_replay_covers_the_inactivity_purge_and_transfers(erasure_log, settings):
    idle, moving = make_resident(), make_resident()
    Device.objects.filter(pk=idle.device.pk).update(
        last_seen_at=timezone.now() - timedelta(days=settings.DEVICE_INACTIVE_DAYS + 1)
    )
    backups = [_dump(idle.device), _dump(moving.device)]
    code = moving.client.post("/api/v1/me/transfer-code/").json()["code"]
    moved = APIClient().post(
        "/api/v1/devices/", {"platform": "ios", "transfer_code": code}, format="json"
    )
    assert moved.status_code == 201, moved.content
    assert devices_purge_inactive() == 1
    for backup in backups:
        _restore(backup)

    call_command("replay_erasures", stdout=StringIO())

    assert not Device.objects.filter(pk__in=[idle.device.pk, moving.device.pk]).exists()
    assert Device.objects.filter(pk=moved.json()["id"]).exists()
    assert sorted(line["reason"] for line in _lines(erasure_log)) == ["inactive", "transfer"]


def test_erasure_log_replay_spares_a_new_device_that_reuses_an_erased_id(erasure_log):
    """After a restore the id sequence is back too: a new device can get an erased one's id."""
    erased = make_resident()
    pk = erased.device.pk
    assert erased.client.delete("/api/v1/me/").status_code == 204
    newcomer = make_resident()
    Device.objects.filter(pk=newcomer.device.pk).update(id=pk)  # as a reset sequence would do

    call_command("replay_erasures", stdout=StringIO())

    assert Device.objects.filter(pk=pk).exists()


def test_erasure_log_replay_since_skips_older_erasures(erasure_log):
    first = make_resident()
    backup = _dump(first.device)
    assert first.client.delete("/api/v1/me/").status_code == 204
    _restore(backup)
    later = (timezone.now() + timedelta(seconds=1)).isoformat()

    call_command("replay_erasures", "--since", later, stdout=StringIO())

    assert Device.objects.filter(pk=first.device.pk).exists()


def test_erasure_log_unwritable_fails_the_erasure_and_keeps_the_device(settings, tmp_path):
    (tmp_path / "not-a-dir").write_text("")
    settings.ERASURE_LOG_PATH = str(tmp_path / "not-a-dir" / "erasures.jsonl")
    resident = make_resident()

    with pytest.raises(OSError):
        resident.client.delete("/api/v1/me/")

    assert Device.objects.filter(pk=resident.device.pk).exists()


def test_erasure_log_damaged_lines_are_skipped(erasure_log):
    resident = make_resident()
    backup = _dump(resident.device)
    assert resident.client.delete("/api/v1/me/").status_code == 204
    with erasure_log.open("a") as log:
        log.write('{"v": 1, "device": \n')  # a crash mid-write
    _restore(backup)

    call_command("replay_erasures", stdout=StringIO())

    assert not Device.objects.filter(pk=resident.device.pk).exists()


def test_erasure_log_missing_file_is_a_clear_error(erasure_log):
    with pytest.raises(CommandError, match="No erasure log"):
        call_command("replay_erasures")
