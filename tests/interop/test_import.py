"""Imports of roadworks: WZDx examples and a DiaLog DATEX II publication round-trip; re-runs are
no-ops; updates and withdrawals follow the source; invalid sources change nothing and warn."""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import Status, Tombstone
from apps.interop.datex2.export import publication
from apps.interop.models import Source, SourceFormat, SourceItem
from apps.interop.sources.services import SourceError, source_run
from apps.interop.wzdx.export import feed as wzdx_feed
from apps.notifications.models import Kind, Notification
from apps.works.models import Works
from tests.factories import CategoryFactory, OrganizationFactory, UserFactory
from tests.interop.conftest import STANDARDS
from tests.interop.dialog_xml import CONDITIONS, DIALOG_PUBLICATION, REGULATIONS
from tests.interop.support import assert_wzdx_valid, assert_xml_valid
from tests.staff import staff_login

EXAMPLES = sorted((STANDARDS / "wzdx-4.2/examples").glob("*.geojson"))


@pytest.fixture
def source(db):
    return Source.objects.create(
        name="Métropole (WZDx)",
        format=SourceFormat.WZDX,
        url="http://127.0.0.1:9/wzdx.geojson",
        organization=OrganizationFactory(slug="metropole"),
        category=CategoryFactory(slug="travaux"),
    )


def _metres(a: list[float], b: list[float]) -> float:
    dy = (a[1] - b[1]) * 110_540
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, dy)


def _assert_same_line(original: list, exported: list) -> None:
    assert len(original) == len(exported)
    assert max(_metres(a, b) for a, b in zip(original, exported, strict=True)) < 1.0


def _second(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(microsecond=0)


def _exported(source: Source) -> dict:
    works = Works.objects.filter(import_origin__source=source).prefetch_related("periods")
    return wzdx_feed(works, updated_at=datetime.fromisoformat("2026-12-07T08:00:00+00:00"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_import_wzdx_example_round_trips(source, path):
    original = json.loads(path.read_text())

    report = source_run(source=source, body=path.read_bytes())
    exported = _exported(source)

    assert_wzdx_valid(exported)
    zones = {
        f["id"]: f
        for f in original["features"]
        if f["properties"]["core_details"]["event_type"] == "work-zone"
    }
    assert report.created == len(zones)
    by_uuid = {str(i.works.uuid): i.external_id for i in SourceItem.objects.select_related("works")}
    out = [
        f
        for f in exported["features"]
        if f["properties"]["core_details"]["event_type"] == "work-zone"
    ]
    assert len(out) == len(zones)
    for feature in out:
        source_feature = zones[by_uuid[feature["id"]]]
        before, after = source_feature["properties"], feature["properties"]
        _assert_same_line(
            source_feature["geometry"]["coordinates"], feature["geometry"]["coordinates"]
        )
        assert _second(after["start_date"]) == _second(before["start_date"])
        assert _second(after["end_date"]) == _second(before["end_date"])
        assert after["restrictions"] == before.get("restrictions", [])
        assert after.get("lanes", []) == [
            {k: v for k, v in lane.items() if k != "lane_number"}
            for lane in before.get("lanes", [])
        ]
        assert after["vehicle_impact"] == before["vehicle_impact"]
        assert after["core_details"]["road_names"] == before["core_details"]["road_names"]
        assert after["core_details"]["direction"] == before["core_details"]["direction"]
    detours_in = [
        f for f in original["features"] if f["properties"]["core_details"]["event_type"] == "detour"
    ]
    detours_out = [
        f for f in exported["features"] if f["properties"]["core_details"]["event_type"] == "detour"
    ]
    assert len(detours_out) == len(detours_in)
    for before, after in zip(detours_in, detours_out, strict=True):
        _assert_same_line(before["geometry"]["coordinates"], after["geometry"]["coordinates"])


def _dialog_publication(*kinds: str) -> bytes:
    regulations = "".join(
        f"<tro:trafficRegulation><tro:status>active</tro:status>{REGULATIONS[k][0]}"
        f"{CONDITIONS.format(vehicles=REGULATIONS[k][1])}</tro:trafficRegulation>"
        for k in kinds
    )
    return DIALOG_PUBLICATION.replace("{regulations}", regulations).encode()


def test_import_datex2_dialog_publication_round_trips(source):
    body = _dialog_publication("noEntry", "speedLimitation", "parkingProhibited", "height", "heavy")
    assert_xml_valid("datex2", body)
    source.format = SourceFormat.DATEX2
    source.save()

    report = source_run(source=source, body=body)

    assert report.created == 1
    works = Works.objects.prefetch_related("periods").select_related("organization").get()
    assert works.road_state == "closed"
    assert works.reduced_speed_limit_kph == 30
    assert works.restrictions == [
        {"type": "no-parking"},
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "no-trucks"},
    ]
    (period,) = works.periods.all()
    assert (period.weekdays, str(period.daily_start_time), str(period.daily_end_time)) == (
        "12345",
        "21:00:00",
        "05:00:00",
    )
    exported = publication([works], updated_at=works.updated_at, feed_id="x")
    assert_xml_valid("datex2", exported)
    text = exported.decode()
    assert (
        "<loc:posList>45.753300 4.851200 45.756100 4.852100 45.758000 4.852500</loc:posList>"
        in text
    )
    assert "<com:overallStartTime>2027-03-01T21:00:00+01:00</com:overallStartTime>" in text
    assert "<com:overallEndTime>2027-03-13T05:00:00+01:00</com:overallEndTime>" in text
    for measure in (
        "noEntry",
        "kilometresPerHour",
        "parkingProhibited",
        "<com:vehicleHeight>3.50",
        "heavyGoodsVehicle",
        "<com:applicableDay>friday",
        "<com:startTimeOfPeriod>21:00:00",
    ):
        assert measure in text, measure
    # And back again: the same works.
    again = source_run(source=source, body=body)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def _future_feed() -> dict:
    """Example 4 (a work zone and its detour) moved into the future, so it is published."""
    document = json.loads(
        (STANDARDS / "wzdx-4.2/examples/scenario4_detour_linestring_example.geojson").read_text()
    )
    for feature in document["features"]:
        feature["properties"]["start_date"] = "2030-01-01T01:03:01Z"
        feature["properties"]["end_date"] = "2030-06-30T01:00:00Z"
    return document


def _counts() -> tuple[int, int]:
    return Notification.objects.count(), Works.objects.count()


def test_import_rerun_changes_nothing_and_sends_no_push(source):
    body = json.dumps(_future_feed()).encode()
    first = source_run(source=source, body=body)
    works = Works.objects.get()
    assert works.status == Status.PUBLISHED
    assert Notification.objects.filter(kind=Kind.NEW, item_id=works.pk).count() == 1
    before, stamp = _counts(), works.updated_at

    again = source_run(source=source, body=body)

    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert _counts() == before
    assert Works.objects.get().updated_at == stamp


def test_import_update_follows_the_source_with_one_update_push(source):
    document = _future_feed()
    source_run(source=source, body=json.dumps(document).encode())
    changed = copy.deepcopy(document)
    changed["features"][0]["properties"]["end_date"] = "2030-07-31T01:00:00Z"

    report = source_run(source=source, body=json.dumps(changed).encode())
    source_run(source=source, body=json.dumps(changed).encode())

    works = Works.objects.get()
    assert report.updated == 1
    assert works.end_at.isoformat() == "2030-07-31T01:00:00+00:00"
    assert Notification.objects.filter(kind=Kind.UPDATE, item_id=works.pk).count() == 1


def test_import_withdrawal_follows_the_source(source):
    document = _future_feed()
    source_run(source=source, body=json.dumps(document).encode())
    emptied = {**document, "features": []}

    report = source_run(source=source, body=json.dumps(emptied).encode())

    works = Works.objects.get()
    assert report.withdrawn == 1
    assert works.status == Status.ARCHIVED
    assert Tombstone.objects.filter(item_type="works", item_id=works.pk).exists()


def test_import_invalid_source_changes_nothing_and_warns_the_staff(source, client):
    source_run(source=source, body=json.dumps(_future_feed()).encode())
    broken = _future_feed()
    broken["features"][0]["properties"]["vehicle_impact"] = "teleported"
    before = (
        list(Works.objects.values_list("pk", "updated_at", "status")),
        Notification.objects.count(),
    )

    with pytest.raises(SourceError, match=r"WZDx 4\.2 invalide"):
        source_run(source=source, body=json.dumps(broken).encode())

    assert (
        list(Works.objects.values_list("pk", "updated_at", "status")),
        Notification.objects.count(),
    ) == before
    source.refresh_from_db()
    assert "$.features[0]" in source.last_error
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get("/admin/").content.decode()
    assert 'id="failing-sources"' in page and "Métropole (WZDx)" in page and "$.features[0]" in page


def test_import_unreadable_json_changes_nothing(source):
    with pytest.raises(SourceError, match="JSON"):
        source_run(source=source, body=b"{not json")
    assert not Works.objects.exists()


def test_import_works_command_imports_a_file_idempotently(db, tmp_path):
    OrganizationFactory(slug="ville")
    CategoryFactory(slug="travaux")
    path = tmp_path / "feed.geojson"
    path.write_text(json.dumps(_future_feed()))
    args = ["import_works", "--wzdx", str(path), "--organization", "ville", "--category", "travaux"]

    first, second = StringIO(), StringIO()
    call_command(*args, stdout=first)
    call_command(*args, stdout=second)

    assert first.getvalue().strip() == "1 created, 0 updated, 0 unchanged, 0 withdrawn"
    assert second.getvalue().strip() == "0 created, 0 updated, 1 unchanged, 0 withdrawn"
    assert Works.objects.get().organization.slug == "ville"


def test_import_works_command_refuses_an_invalid_datex2_file(db, tmp_path):
    OrganizationFactory(slug="ville")
    CategoryFactory(slug="travaux")
    path = tmp_path / "bad.xml"
    path.write_text("<d2:payload xmlns:d2='http://datex2.eu/schema/3/d2Payload'/>")

    with pytest.raises(CommandError, match="DATEX II invalide"):
        call_command(
            "import_works",
            "--datex2",
            str(path),
            "--organization",
            "ville",
            "--category",
            "travaux",
            stdout=StringIO(),
        )
    assert not Works.objects.exists()


def test_import_sources_poll_is_on_the_beat_schedule():
    from backend.celery import app

    assert (
        app.conf.beat_schedule["interop-sources-poll"]["task"] == "apps.interop.tasks.sources_poll"
    )


def test_import_cancellation_follows_the_source_with_one_update_push(source):
    document = _future_feed()
    source_run(source=source, body=json.dumps(document).encode())
    cancelled = copy.deepcopy(document)
    cancelled["features"][0]["properties"]["event_status"] = "cancelled"

    source_run(source=source, body=json.dumps(cancelled).encode())
    source_run(source=source, body=json.dumps(cancelled).encode())

    works = Works.objects.get()
    assert works.work_status == "cancelled"
    assert works.status == Status.PUBLISHED  # still shown, as cancelled
    assert Notification.objects.filter(kind=Kind.UPDATE, item_id=works.pk).count() == 1


def test_import_a_point_exported_as_a_line_comes_back_as_a_point(source):
    document = _future_feed()
    document["features"][0]["geometry"]["coordinates"] = [[-93.6, 41.8], [-93.6, 41.8]]

    source_run(source=source, body=json.dumps(document).encode())

    assert Works.objects.get().geometry.geom_type == "Point"


def test_import_an_item_the_works_services_refuse_changes_nothing(source):
    source_run(source=source, body=json.dumps(_future_feed()).encode())
    before = list(Works.objects.values_list("pk", "updated_at", "lanes"))
    document = _future_feed()
    # Valid WZDx (lane order has no maximum there) but beyond what a works accepts (99).
    document["features"][0]["properties"]["lanes"][0]["order"] = 150

    with pytest.raises(SourceError, match="a15f7570"):
        source_run(source=source, body=json.dumps(document).encode())

    assert list(Works.objects.values_list("pk", "updated_at", "lanes")) == before
    source.refresh_from_db()
    assert "a15f7570" in source.last_error


def test_import_command_source_run_from_the_admin_reports_instead_of_failing(db, tmp_path):
    OrganizationFactory(slug="ville")
    CategoryFactory(slug="travaux")
    path = tmp_path / "feed.geojson"
    path.write_text(json.dumps(_future_feed()))
    call_command(
        "import_works",
        "--wzdx",
        str(path),
        "--organization",
        "ville",
        "--category",
        "travaux",
        stdout=StringIO(),
    )
    source = Source.objects.get()

    with pytest.raises(SourceError, match="Fichier illisible"):
        source_run(source=source)  # the admin's "Importer maintenant" on it
    assert Works.objects.get().status == Status.PUBLISHED


def test_import_takes_no_savepoint_per_works(source):
    """The services' nested atomic blocks take no savepoint inside an import (one transaction
    applied whole or not at all): they were over half of its queries (bench/README.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        report = source_run(source=source, body=json.dumps(_future_feed()).encode())

    assert report.created == 1
    savepoints = [q["sql"] for q in queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1  # the import's own block, nested in the test's transaction
    assert connection.features.uses_savepoints  # restored
