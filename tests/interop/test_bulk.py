"""The bulk path of first imports writes what the one-by-one path writes: same works, periods,
areas, notifications and deliveries, source items, DiaLog outbox, apart from ids and clocks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.bulk import constraints_check, rows_validate
from apps.core.models import Status
from apps.interop.dialog.services import dialog_link_save
from apps.interop.models import DialogChange, DialogRegulation, Source, SourceFormat, SourceItem
from apps.interop.sources.services import (
    record_apply,
    records_parse,
    source_run,
    without_savepoints,
)
from apps.notifications.models import Delivery, Notification
from apps.works.models import Works, WorksPeriod
from bench import interop_import
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    CategoryFactory,
    OrganizationFactory,
    square,
)
from tests.notifications.helpers import phone

#: Columns that differ between two runs by construction (ids, clocks).
VOLATILE = {"id", "created_at", "updated_at", "published_at", "publish_at"}


@pytest.fixture
def source(db, settings):
    settings.DIALOG_SECRET_KEY = "k" * 32
    organization = OrganizationFactory(slug="metropole")
    category = CategoryFactory(slug="travaux")
    # Districts over part of the feed's extent, one around the centre (the phones' places).
    for n, (dx, dy) in enumerate([(0, 0), (0.02, 0.01), (-0.02, -0.015), (0.035, 0.025)]):
        AreaFactory(slug=f"quartier-{n}", geometry=square(CENTRE_LON + dx, CENTRE_LAT + dy, 0.01))
    phone(follows=[category])
    phone(at=(CENTRE_LON + 0.02, CENTRE_LAT + 0.01), follows=[category], radius_m=2000)
    phone(at=(CENTRE_LON - 0.03, CENTRE_LAT), follows=[])
    return Source.objects.create(
        name="Métropole (WZDx)",
        format=SourceFormat.WZDX,
        url="http://127.0.0.1:9/wzdx.geojson",
        organization=organization,
        category=category,
        notify=True,
    )


def _feed(events: int = 40) -> bytes:
    feed = interop_import.generated_feed(events)
    # One works over already (kept as a draft, not published) and one cancelled at the source.
    first, second = feed["features"][0]["properties"], feed["features"][1]["properties"]
    first["core_details"]["name"] = "over"
    first["start_date"], first["end_date"] = "2020-01-01T08:00:00Z", "2020-01-02T17:00:00Z"
    second["event_status"] = "cancelled"
    return json.dumps(feed).encode()


def _value(value: Any) -> Any:
    return value.ewkt if hasattr(value, "ewkt") else value


def _snapshot(source: Source) -> dict[str, Any]:
    """Everything the import wrote, keyed by the works' uuid (stable across runs)."""
    works = {}
    uuid_of = {}
    for row in Works.objects.filter(import_origin__source=source).prefetch_related(
        "areas", "periods"
    ):
        uuid_of[row.pk] = str(row.uuid)
        columns = {
            f.attname: _value(getattr(row, f.attname))
            for f in Works._meta.concrete_fields
            if f.attname not in VOLATILE
        }
        columns["areas"] = sorted(a.slug for a in row.areas.all())
        columns["periods"] = [
            (p.start_date, p.end_date, p.weekdays, p.daily_start_time, p.daily_end_time)
            for p in row.periods.all()
        ]
        columns["public"] = row.publish_at is not None and row.published_at is not None
        works[str(row.uuid)] = columns
    notifications = {}
    for notification in Notification.objects.filter(item_type="works"):
        uuid = uuid_of[notification.item_id]
        deliveries = sorted(
            (d.device_id, d.status, json.dumps(d.why, sort_keys=True))
            for d in Delivery.objects.filter(notification=notification)
        )
        key = notification.key.replace(str(notification.item_id), uuid)
        if notification.kind == "update":
            key = key.rsplit(":", 1)[0]  # its stamp is the works' updated_at
        notifications[key] = (
            notification.kind,
            notification.urgency,
            notification.tag.replace(str(notification.item_id), uuid),
            notification.texts,
            notification.exercise,
            notification.targeted,
            notification.committed_at is not None,
            deliveries,
        )
    items = sorted((i.external_id, i.fingerprint, uuid_of[i.works_id]) for i in source.items.all())
    dialog = sorted(
        (uuid_of.get(c.regulation.works_id), c.action, c.status)
        for c in DialogChange.objects.select_related("regulation")
    )
    return {"works": works, "notifications": notifications, "items": items, "dialog": dialog}


def _wipe() -> None:
    Notification.objects.all().delete()
    DialogRegulation.objects.all().delete()
    SourceItem.objects.all().delete()
    Works.objects.all().delete()


def _one_by_one(source: Source, body: bytes) -> None:
    records = records_parse(body=body, format=source.format)
    seen = set()
    with transaction.atomic(), without_savepoints():
        for record in records:
            if record.source_id in seen or record.geometry is None:
                continue
            seen.add(record.source_id)
            record_apply(source=source, record=record, item=None)


@pytest.mark.django_db(transaction=True)
def test_bulk_import_writes_what_the_one_by_one_path_writes(source):
    dialog_link_save(organization=source.organization, client_id="quartier", client_secret="s")
    body = _feed()

    report = source_run(source=source, body=body)
    bulk = _snapshot(source)
    # The audit trail has the creation of each works, made by the import.
    created = Works.history.filter(history_type="+")
    assert created.count() == len(bulk["works"])
    assert set(created.values_list("history_actor", flat=True)) == {"import « Métropole (WZDx) »"}
    _wipe()
    _one_by_one(source, body)
    single = _snapshot(source)

    assert report.created == len(bulk["works"]) > 20
    assert bulk["works"] == single["works"]
    assert bulk["notifications"] == single["notifications"]
    assert bulk["items"] == single["items"]
    assert bulk["dialog"] == single["dialog"] == []  # imported works never go to DiaLog
    # The feed exercises what matters: areas, periods, a draft, a cancellation, deliveries.
    assert any(w["areas"] for w in bulk["works"].values())
    assert any(not w["areas"] for w in bulk["works"].values())
    assert any(w["periods"] for w in bulk["works"].values())
    assert any(w["status"] == Status.DRAFT for w in bulk["works"].values())
    assert any(w["work_status"] == "cancelled" for w in bulk["works"].values())
    assert any(n[7] for n in bulk["notifications"].values())
    assert any(n[0] == "update" for n in bulk["notifications"].values())


@pytest.fixture
def quiet_source(db):
    """A source notifying a city with no device: nothing to target."""
    AreaFactory(slug="centre", geometry=square(CENTRE_LON, CENTRE_LAT, 0.02))
    return Source.objects.create(
        name="Métropole (WZDx)",
        format=SourceFormat.WZDX,
        url="http://127.0.0.1:9/wzdx.geojson",
        organization=OrganizationFactory(slug="metropole"),
        category=CategoryFactory(slug="travaux"),
        notify=True,
    )


@pytest.mark.django_db
def test_bulk_import_statements_do_not_grow_with_the_feed(quiet_source):
    """A first import costs the same 20 statements for 30 or 60 road events (with periods, and
    the history rows of works, periods and notifications): none per works."""
    counts = []
    for events in (30, 60):
        body = json.dumps(interop_import.generated_feed(events)).encode()
        with CaptureQueriesContext(connection) as queries:
            report = source_run(source=quiet_source, body=body)
        counts.append(len(queries))
        assert report.created == Notification.objects.count() > 5
        _wipe()
    assert counts[0] == counts[1] == 20


@pytest.mark.django_db
def test_bulk_import_areas_are_those_of_the_one_by_one_refresh(source):
    from apps.core.services import content_areas_refresh

    source_run(source=source, body=_feed())

    for works in Works.objects.filter(import_origin__source=source):
        bulk = sorted(a.pk for a in works.areas.all())
        assert sorted(a.pk for a in content_areas_refresh(item=works)) == bulk


@pytest.mark.django_db
def test_bulk_import_refused_works_names_it_and_changes_nothing(source):
    feed = interop_import.generated_feed(12)
    feed["features"][5]["properties"]["core_details"]["name"] = "x" * 250  # title, cut at 200
    # A speed limit the column cannot hold: refused by the model's validation.
    feed["features"][7]["properties"]["reduced_speed_limit_kph"] = 99999
    identifier = feed["features"][7]["id"]

    with pytest.raises(Exception, match=identifier):
        source_run(source=source, body=json.dumps(feed).encode())

    assert not Works.objects.exists() and not Notification.objects.exists()
    source.refresh_from_db()
    assert identifier in source.last_error and source.created_count == 0


@pytest.mark.django_db
def test_constraints_check_judges_as_the_database(source):
    start = timezone.now()
    works = Works(
        title_fr="t",
        category=source.category,
        organization=source.organization,
        start_at=start,
        end_at=start - timedelta(hours=1),
        road_state="closed",
        vehicle_impact="all-lanes-open",
        expires_at=None,
    )
    with pytest.raises(ValidationError) as caught:
        constraints_check(works)
    messages = caught.value.messages
    assert "La fin doit suivre le début." in messages
    assert "L'impact WZDx ne correspond pas à la circulation." in messages
    # SQL's NULL passes: no end, no check.
    period = WorksPeriod(start_date=start.date(), end_date=None)
    constraints_check(period)
    with pytest.raises(ValidationError):
        rows_validate(
            [
                WorksPeriod(
                    works=works, start_date=start.date(), end_date=start.date() - timedelta(days=1)
                )
            ]
        )


# --------------------------------------------------------------------------------------------
# OpenAgenda: events with multi-slot timings
# --------------------------------------------------------------------------------------------


@pytest.fixture
def agenda(db):
    from apps.interop.models import AgendaSource

    category = CategoryFactory(slug="culture")
    AreaFactory(slug="centre", geometry=square(CENTRE_LON, CENTRE_LAT, 0.02))
    phone(follows=[category], radius_m=5000)
    return AgendaSource.objects.create(
        name="Agenda de la ville",
        base_url="http://127.0.0.1:9",
        agenda_uid=12345,
        key="k",
        organization=OrganizationFactory(slug="ville"),
        category=category,
        moderated=True,
        notify=True,
    )


def _agenda_snapshot(agenda: Any) -> dict[str, Any]:
    from apps.events.models import Event

    events = {}
    uuid_of = {}
    for row in (
        Event.objects.filter(openagenda_origin__source=agenda)
        .select_related("venue")
        .prefetch_related("areas", "occurrences")
    ):
        uuid_of[row.pk] = str(row.uuid)
        columns = {
            f.attname: _value(getattr(row, f.attname))
            for f in Event._meta.concrete_fields
            if f.attname not in VOLATILE
        }
        columns["venue_id"] = (row.venue.name, row.venue.address) if row.venue else None
        columns["areas"] = sorted(a.slug for a in row.areas.all())
        columns["occurrences"] = [(o.start_at, o.end_at, o.origin) for o in row.occurrences.all()]
        events[str(row.uuid)] = columns
    notifications = {
        n.key.replace(str(n.item_id), uuid_of[n.item_id]): (
            n.kind,
            n.urgency,
            n.texts,
            n.targeted,
            sorted((d.device_id, json.dumps(d.why, sort_keys=True)) for d in n.deliveries.all()),
        )
        for n in Notification.objects.filter(item_type="events")
    }
    items = sorted((i.event_uid, i.fingerprint, uuid_of[i.event_id]) for i in agenda.items.all())
    return {"events": events, "notifications": notifications, "items": items}


@pytest.mark.django_db
def test_bulk_agenda_import_writes_what_the_one_by_one_path_writes(agenda):
    from apps.events.models import Event, Venue
    from apps.interop.openagenda.sync import agenda_event_apply, agenda_map, agenda_run
    from bench.openagenda_import import generated_events

    documents = generated_events(30, max_slots=6)
    report = agenda_run(source=agenda, events=documents)
    bulk = _agenda_snapshot(agenda)
    venues = sorted(Venue.objects.values_list("name", "address"))
    Notification.objects.all().delete()
    agenda.items.all().delete()
    Event.objects.all().delete()
    Venue.objects.all().delete()
    with transaction.atomic(), without_savepoints():
        cache: dict = {}
        for mapped in agenda_map(documents):
            if not mapped.removed:
                agenda_event_apply(source=agenda, mapped=mapped, item=None, venues=cache)
    single = _agenda_snapshot(agenda)

    assert report.created == len(bulk["events"]) == 30
    assert bulk["events"] == single["events"]
    assert bulk["notifications"] == single["notifications"]
    assert bulk["items"] == single["items"]
    assert venues == sorted(Venue.objects.values_list("name", "address"))
    assert sum(len(e["occurrences"]) for e in bulk["events"].values()) > 60
    assert any(n[4] for n in bulk["notifications"].values())


@pytest.mark.django_db
def test_bulk_agenda_import_statements_do_not_grow_with_the_agenda(agenda):
    from apps.events.models import Event, Venue
    from apps.interop.openagenda.sync import agenda_run
    from apps.residents.models import Device
    from bench.openagenda_import import generated_events

    Device.objects.all().delete()
    counts = []
    for events in (20, 60):
        documents = generated_events(events, max_slots=6)
        with CaptureQueriesContext(connection) as queries:
            agenda_run(source=agenda, events=documents)
        # Venues (an upsert, its history row and an AgendaLocation per distinct venue) aside.
        counts.append(
            sum(
                1
                for q in queries.captured_queries
                if not any(
                    table in q["sql"]
                    for table in (
                        "events_venue",
                        "events_historicalvenue",
                        "interop_agendalocation",
                    )
                )
            )
        )
        Notification.objects.all().delete()
        agenda.items.all().delete()
        Event.objects.all().delete()
        Venue.objects.all().delete()
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_venue_upsert_of_an_unchanged_venue_writes_nothing():
    from django.contrib.gis.geos import Point

    from apps.events.services import venue_upsert

    fields = {"city": "Lyon", "location": Point(CENTRE_LON, CENTRE_LAT, srid=4326)}
    first = venue_upsert(name="Salle Rameau", address="29 rue de la Martinière", **fields)

    with CaptureQueriesContext(connection) as queries:
        again = venue_upsert(name="Salle Rameau", address="29 rue de la Martinière", **fields)

    # The lookup only (in its savepoint): no save, so no re-render of the venue's events.
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SAVEPOINT", "SELECT", "RELEASE"]

    assert again.pk == first.pk
    moved = venue_upsert(name="Salle Rameau", address="29 rue de la Martinière", city="Paris")
    assert moved.pk == first.pk and moved.city == "Paris"
