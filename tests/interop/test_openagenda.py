"""OpenAgenda import: the contract's examples, cursor pages, idempotence, updates, cancellations
and withdrawals as staff edits, drafts per source, rate limits and faults of a fake server."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from jsonschema import Draft202012Validator

from apps.core.models import Status, Tombstone
from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from apps.interop.models import AgendaItem, AgendaSource
from apps.interop.openagenda import contract
from apps.interop.openagenda.mapping import event_map
from apps.interop.openagenda.sync import AgendaError, agenda_run
from apps.notifications.models import Kind, Notification
from tests.factories import CategoryFactory, OrganizationFactory, UserFactory
from tests.interop.openagenda_support import agenda_event, example_event
from tests.staff import staff_login

AGENDA = 12345
#: Schemas of the contract about events and locations that carry examples.
EXAMPLED = ["Event", "EventSummary", "LocationSummary", "Location", "Pagination", "LocalizedString"]


@pytest.fixture
def source(db, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = []
    return AgendaSource.objects.create(
        name="Agenda de la ville",
        base_url=fake_openagenda.url,
        agenda_uid=AGENDA,
        key=fake_openagenda.key,
        organization=OrganizationFactory(slug="ville"),
        category=CategoryFactory(slug="culture"),
        moderated=True,
        notify=True,
    )


def assert_requests_follow_the_contract(fake) -> None:
    assert fake.violations == []
    for request in fake.requests:
        assert request["method"] == "GET"
        for name, component in (("limit", "Limit"), ("after", "AfterCursor")):
            if name in request["query"]:
                value = request["query"][name][0]
                value = int(value) if name == "limit" else value
                schema = contract.parameter_schema(component)
                assert not list(Draft202012Validator(schema).iter_errors(value))


@pytest.mark.parametrize("name", EXAMPLED)
def test_openagenda_contract_examples_validate_against_their_schema(name):
    schemas = contract.spec()["components"]["schemas"]
    examples = (
        [schemas[name]["example"]] if "example" in schemas[name] else schemas[name]["examples"]
    )
    for example in examples:
        assert contract.errors(example, name) == []


def test_openagenda_contract_refuses_what_breaks_it():
    event = example_event()
    event["status"] = 9
    assert contract.errors(event, "Event")
    del event["status"]
    assert any("status" in e for e in contract.errors(event, "Event"))


def test_openagenda_example_event_maps_every_field():
    mapped = event_map(example_event())
    data = mapped.data
    assert mapped.uid == 9876543
    assert data["title_fr"] == "Concert de jazz au parc"
    assert data["title_en"] == "Jazz concert in the park"
    assert data["summary_fr"] == "Une soirée jazz en plein air."
    assert data["body_en"].startswith("An open-air concert")
    assert data["price_info_fr"] == "Entrée libre"
    assert data["start_at"].isoformat() == "2025-06-20T18:00:00+02:00"
    assert data["extra_dates"] == []
    assert data["event_status"] == EventStatus.SCHEDULED
    assert data["attendance_mode"] == "offline"
    assert sorted(data["accessibility"]) == ["motor", "visual"]
    assert (data["age_min"], data["age_max"]) == (0, None)
    assert data["registration_url"].startswith("https://openagenda.com/")
    assert data["venue"]["name"] == "Parc de la Tête d'Or"
    assert data["venue"]["postal_code"] == "69006"
    assert data["venue"]["location"].equals(Point(4.8558, 45.7772, srid=4326))
    assert data["image_credit"] == "Ville de Lyon"
    assert mapped.extras["keywords"]["fr"] == ["jazz", "concert", "plein air"]
    assert mapped.extras["image_url"].endswith("9876543.full.image.jpg")
    assert mapped.extras["source_url"] == (
        "https://openagenda.com/festival-des-lumieres/events/concert-de-jazz-au-parc"
    )


@pytest.mark.parametrize(
    ("code", "ours"),
    [
        (1, "scheduled"),
        (2, "rescheduled"),
        (3, "moved_online"),
        (4, "postponed"),
        (5, "full"),
        (6, "cancelled"),
    ],
)
def test_openagenda_statuses_map_to_ours_including_full(code, ours):
    event = example_event()
    event["status"] = code
    assert event_map(event).data["event_status"] == ours
    assert ours in EventStatus.values


def test_openagenda_import_follows_the_cursor_and_creates_published_events(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1000 + i, slots=3) for i in range(230)]
    report = agenda_run(source=source)
    assert (report.created, report.updated, report.unchanged) == (230, 0, 0)
    assert len([r for r in fake_openagenda.requests if r["path"].endswith("/events")]) == 3
    assert_requests_follow_the_contract(fake_openagenda)
    events = Event.objects.filter(openagenda_origin__source=source)
    assert events.count() == 230
    assert set(events.values_list("status", flat=True)) == {Status.PUBLISHED}
    assert EventOccurrence.objects.filter(event__in=events).count() == 690
    # One venue, reused by name and address.
    assert Venue.objects.count() == 1
    event = Event.objects.get(openagenda_origin__event_uid=1000)
    assert event.title_fr == "Concert n° 1000" and event.title_en == "Concert #1000"
    assert event.organization == source.organization and event.category == source.category
    assert Notification.objects.filter(kind=Kind.NEW).count() == 230


def test_openagenda_rerun_changes_nothing_and_sends_no_push(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1000 + i, slots=2) for i in range(5)]
    agenda_run(source=source)
    before = (
        Notification.objects.count(),
        list(Event.objects.order_by("pk").values_list("pk", "updated_at", "sequence")),
    )
    report = agenda_run(source=source)
    assert (report.created, report.updated, report.unchanged, report.withdrawn) == (0, 0, 5, 0)
    after = (
        Notification.objects.count(),
        list(Event.objects.order_by("pk").values_list("pk", "updated_at", "sequence")),
    )
    assert after == before


def test_openagenda_update_and_cancellation_follow_the_source_as_a_staff_edit(
    source, fake_openagenda
):
    fake_openagenda.agendas[AGENDA] = [agenda_event(7, slots=2), agenda_event(8)]
    agenda_run(source=source)
    moved = agenda_event(7, slots=4, title="Concert déplacé")
    moved["timings"] = [
        {"begin": t["begin"].replace("T", "T").replace(":00:00+", ":30:00+"), "end": t["end"]}
        for t in moved["timings"]
    ]
    cancelled = agenda_event(8, status=6)
    fake_openagenda.agendas[AGENDA] = [moved, cancelled]
    report = agenda_run(source=source)
    assert report.updated == 2
    event = Event.objects.get(openagenda_origin__event_uid=7)
    assert event.title_fr == "Concert déplacé"
    assert event.occurrences.count() == 4
    gone = Event.objects.get(openagenda_origin__event_uid=8)
    assert gone.event_status == EventStatus.CANCELLED
    assert gone.status == Status.PUBLISHED  # listed as cancelled, as a staff cancellation
    assert Notification.objects.filter(kind=Kind.UPDATE, item_id=gone.pk).count() == 1
    assert Notification.objects.filter(kind=Kind.UPDATE, item_id=event.pk).count() == 1


def test_openagenda_deleted_and_removed_events_are_withdrawn(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1), agenda_event(2), agenda_event(3)]
    agenda_run(source=source)
    removed = agenda_event(2)
    removed["state"] = -2
    fake_openagenda.agendas[AGENDA] = [agenda_event(1), removed]
    report = agenda_run(source=source)
    assert report.withdrawn == 2
    statuses = dict(Event.objects.values_list("openagenda_origin__event_uid", "status"))
    assert statuses == {1: Status.PUBLISHED, 2: Status.ARCHIVED, 3: Status.ARCHIVED}
    assert Tombstone.objects.filter(reason=Tombstone.Reason.ARCHIVED).count() == 2


def test_openagenda_unmoderated_agenda_lands_as_drafts_without_push(source, fake_openagenda):
    source.moderated = False
    source.save()
    fake_openagenda.agendas[AGENDA] = [agenda_event(1), agenda_event(2)]
    report = agenda_run(source=source)
    assert report.created == 2
    assert set(Event.objects.values_list("status", flat=True)) == {Status.DRAFT}
    assert Notification.objects.count() == 0
    # Re-run: the drafts stay drafts, untouched.
    assert agenda_run(source=source).unchanged == 2
    assert set(Event.objects.values_list("status", flat=True)) == {Status.DRAFT}


def test_openagenda_invalid_source_changes_nothing_and_warns_the_staff(
    source, fake_openagenda, client
):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1), agenda_event(2)]
    agenda_run(source=source)
    snapshot = list(
        Event.objects.order_by("pk").values_list("pk", "title_fr", "status", "sequence")
    )
    broken = agenda_event(2, title="Nouveau titre")
    broken["status"] = 42  # not an EventStatus
    fake_openagenda.agendas[AGENDA] = [agenda_event(1, title="Changé"), broken]
    with pytest.raises(AgendaError, match="invalide"):
        agenda_run(source=source)
    assert (
        list(Event.objects.order_by("pk").values_list("pk", "title_fr", "status", "sequence"))
        == snapshot
    )
    source.refresh_from_db()
    assert "status" in source.last_error
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get("/admin/").content.decode()
    assert 'id="failing-agendas"' in page and "Agenda de la ville" in page


def test_openagenda_too_many_timings_refuse_the_agenda(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1, slots=801)]
    with pytest.raises(AgendaError, match="801 dates"):
        agenda_run(source=source)
    assert Event.objects.count() == 0


def test_openagenda_800_timings_become_800_occurrences(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1, slots=800)]
    agenda_run(source=source)
    event = Event.objects.get()
    assert event.occurrences.count() == 800


def test_openagenda_rate_limit_is_waited_for_with_retry_after(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(i) for i in range(150)]
    fake_openagenda.fail_next(
        429,
        headers={"Retry-After": "1"},
        body=b'{"error": {"code": "rate_limited", "message": "slow down"}}',
    )
    report = agenda_run(source=source)
    assert report.created == 150
    assert len(fake_openagenda.requests) == 3  # the refused page, then both pages


def test_openagenda_rate_limit_asking_too_long_fails_and_changes_nothing(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1)]
    fake_openagenda.fail_next(429, headers={"Retry-After": "3600"})
    with pytest.raises(AgendaError, match="limite le débit"):
        agenda_run(source=source)
    assert Event.objects.count() == 0


def test_openagenda_unavailable_is_retried_then_reported(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1)]
    fake_openagenda.fail_next(503, headers={"Retry-After": "0"})
    assert agenda_run(source=source).created == 1
    fake_openagenda.fail_next(503, headers={"Retry-After": "0"}, times=4)
    with pytest.raises(AgendaError, match="503"):
        agenda_run(source=source)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "clé d'API"), (404, "introuvable"), (500, "500")],
)
def test_openagenda_errors_are_reported_in_french(source, fake_openagenda, status, message):
    fake_openagenda.fail_next(status, body=b'{"error": {"code": "x", "message": "y"}}')
    with pytest.raises(AgendaError, match=message):
        agenda_run(source=source)
    source.refresh_from_db()
    assert message in source.last_error


def test_openagenda_wrong_key_is_refused(source, fake_openagenda):
    source.key = "oa_sk_wrong"
    with pytest.raises(AgendaError, match="clé"):
        agenda_run(source=source)


def test_openagenda_timeout_fails_and_changes_nothing(source, fake_openagenda, settings):
    settings.OPENAGENDA_TIMEOUT_S = 0.3
    fake_openagenda.agendas[AGENDA] = [agenda_event(1)]
    fake_openagenda.hang_next(4)
    with pytest.raises(AgendaError, match="à temps"):
        agenda_run(source=source)
    assert Event.objects.count() == 0


def test_openagenda_import_records_keywords_image_and_source_page(source, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(5)]
    agenda_run(source=source)
    item = AgendaItem.objects.get()
    assert item.keywords["en"] == ["jazz", "concert", "open air"]
    assert item.image_url.startswith("https://img.openagenda.com/")
    assert item.source_url.endswith("/events/evenement-5")
    assert item.event.image_credit == "Ville de Lyon"


def test_openagenda_poll_is_on_the_beat_schedule():
    from backend.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "apps.interop.tasks.agendas_poll" in tasks


def test_openagenda_import_takes_no_savepoint_per_event(source, fake_openagenda):
    """As the roadworks import: one transaction, no savepoint per event (bench/README.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fake_openagenda.agendas[AGENDA] = [agenda_event(i, slots=2) for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        assert agenda_run(source=source).created == 3
    savepoints = [q["sql"] for q in queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1  # the import's own block, nested in the test's transaction
    assert connection.features.uses_savepoints  # restored
