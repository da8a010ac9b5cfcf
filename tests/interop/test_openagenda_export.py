"""OpenAgenda export: our events sent to the city's agenda by external id through an outbox,
updated, cancelled and withdrawn with them, retried, and their errors shown to staff in French.
Every body is checked by the fake server against the contract's ``EventInput``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.services import content_archive, content_publish
from apps.events.services import event_apply
from apps.interop.models import AgendaExport, AgendaLocation, AgendaSource
from apps.interop.openagenda import contract
from apps.interop.openagenda.export import EXT_KEY, event_body, exports_due
from apps.interop.openagenda.sync import agenda_run
from apps.interop.tasks import agenda_exports_retry
from tests.factories import CategoryFactory, OrganizationFactory, UserFactory, VenueFactory
from tests.interop.openagenda_support import agenda_event
from tests.staff import staff_login

AGENDA = 777


_capture = None


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks):
    """``committed()``: run the after-commit callbacks (the sending task) as a commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def committed():
    assert _capture is not None
    return _capture(execute=True)


@pytest.fixture
def city(db):
    return OrganizationFactory(slug="ville")


@pytest.fixture
def agenda(city, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = []
    return AgendaSource.objects.create(
        name="Agenda officiel",
        base_url=fake_openagenda.url,
        agenda_uid=AGENDA,
        key=fake_openagenda.key,
        organization=city,
        category=CategoryFactory(slug="culture"),
        moderated=True,
        export_enabled=True,
        export_location_uid=55512,
    )


def _event(city, *, title="Fête de la musique", **extra):
    start = timezone.now().replace(microsecond=0) + timedelta(days=5)
    data = {
        "title_fr": title,
        "title_en": "Music day",
        "summary_fr": "Concerts dans tout le centre.",
        "category": CategoryFactory(slug="fetes"),
        "start_at": start,
        "end_at": start + timedelta(hours=3),
        "venue": VenueFactory(),
        "accessibility": ["motor"],
        "age_min": 6,
        "registration_url": "https://billets.example/fete",
        **extra,
    }
    with committed():
        event = event_apply(data=data, organization=city)
        content_publish(item=event)
    return event


def _sent(fake, event):
    return fake.by_ext.get((AGENDA, EXT_KEY, str(event.pk)))


def test_openagenda_export_sends_a_published_event_by_external_id(agenda, city, fake_openagenda):
    event = _event(city)
    sent = _sent(fake_openagenda, event)
    assert fake_openagenda.violations == []
    assert sent["title"] == {"fr": "Fête de la musique", "en": "Music day"}
    assert sent["description"] == {"fr": "Concerts dans tout le centre."}
    assert sent["timings"][0]["begin"] == event.start_at.isoformat()
    assert sent["location"] == {"uid": 55512}
    assert sent["accessibility"]["mi"] is True and sent["accessibility"]["vi"] is False
    assert sent["age"] == {"min": 6, "max": None}
    assert sent["registration"] == [{"type": "link", "value": "https://billets.example/fete"}]
    assert "status" not in sent  # scheduled: sent without the opt-in status field
    row = AgendaExport.objects.get()
    assert (row.state, row.operation, row.event_uid) == ("done", "set", sent["uid"])
    puts = [r for r in fake_openagenda.requests if r["method"] == "PUT"]
    assert puts[0]["path"] == f"/v3/agendas/{AGENDA}/events/ext/{EXT_KEY}/{event.pk}"


def test_openagenda_export_bodies_follow_the_contract(agenda, city):
    event = _event(city, event_status="full")
    body = event_body(event=event, source=agenda)
    assert contract.errors(body, "EventInput") == []
    assert body["status"] == 5


def test_openagenda_export_follows_edits_cancellation_and_withdrawal(agenda, city, fake_openagenda):
    event = _event(city)
    uid = _sent(fake_openagenda, event)["uid"]
    with committed():
        event_apply(event=event, data={"title_fr": "Fête de la musique 2027"})
    assert _sent(fake_openagenda, event)["title"]["fr"] == "Fête de la musique 2027"
    assert _sent(fake_openagenda, event)["uid"] == uid  # updated, not duplicated
    with committed():
        event_apply(event=event, data={"event_status": "cancelled"})
    assert _sent(fake_openagenda, event)["status"] == 6
    with committed():
        content_archive(item=event)
    assert _sent(fake_openagenda, event) is None
    row = AgendaExport.objects.get()
    assert (row.operation, row.state) == ("delete", "done")
    assert fake_openagenda.violations == []


def test_openagenda_export_drafts_and_other_organisations_are_not_sent(agenda, fake_openagenda):
    other = OrganizationFactory(slug="asso")
    _event(other)
    start = timezone.now() + timedelta(days=3)
    with committed():
        event_apply(
            data={
                "title_fr": "Brouillon",
                "category": CategoryFactory(slug="x"),
                "start_at": start,
                "end_at": start + timedelta(hours=1),
            },
            organization=agenda.organization,
        )
    assert fake_openagenda.by_ext == {}
    assert not AgendaExport.objects.exists()


def test_openagenda_export_never_sends_imported_events_back(agenda, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1)]
    agenda_run(source=agenda)
    assert fake_openagenda.by_ext == {}
    assert not AgendaExport.objects.exists()
    # The import taught us the venue's OpenAgenda location.
    assert AgendaLocation.objects.get(source=agenda).location_uid == 55512


def test_openagenda_export_uses_the_venue_location_learnt_on_import(agenda, city, fake_openagenda):
    fake_openagenda.agendas[AGENDA] = [agenda_event(1, location={"uid": 4242, "name": "Halle"})]
    agenda_run(source=agenda)
    venue = AgendaLocation.objects.get(location_uid=4242).venue
    event = _event(city, venue=venue)
    assert _sent(fake_openagenda, event)["location"] == {"uid": 4242}


def test_openagenda_export_is_retried_after_an_outage(agenda, city, fake_openagenda):
    fake_openagenda.fail_next(503, headers={"Retry-After": "0"}, times=4)
    event = _event(city)
    row = AgendaExport.objects.get()
    assert (row.state, row.attempts) == ("pending", 1)
    assert "503" in row.last_error
    assert row.next_attempt_at > timezone.now()
    assert exports_due() == []
    assert exports_due(at=row.next_attempt_at) == [row.pk]
    AgendaExport.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with committed():
        assert agenda_exports_retry() == 1
    row.refresh_from_db()
    assert (row.state, row.last_error) == ("done", "")
    assert _sent(fake_openagenda, event) is not None


def test_openagenda_export_refusal_fails_at_once_and_warns_in_french(agenda, city, client):
    agenda.export_location_uid = None
    agenda.save()
    event = _event(city, title="Concert sans lieu connu")
    row = AgendaExport.objects.get()
    assert row.state == "failed"
    assert "Lieu inconnu de l'agenda OpenAgenda" in row.last_error
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get("/admin/").content.decode()
    assert 'id="failing-exports"' in page and "Concert sans lieu connu" in page
    assert f"/admin/events/event/{event.pk}/change/" in page


def test_openagenda_export_422_is_final(agenda, city, fake_openagenda):
    fake_openagenda.fail_next(
        422, body=b'{"error": {"code": "validation_error", "message": "status disabled"}}'
    )
    _event(city)
    row = AgendaExport.objects.get()
    assert row.state == "failed" and "422" in row.last_error


def test_openagenda_export_retry_is_on_the_beat_schedule():
    from backend.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "apps.interop.tasks.agenda_exports_retry" in tasks


def test_openagenda_source_key_is_never_shown_back_in_the_admin(agenda, client):
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get(f"/admin/interop/agendasource/{agenda.pk}/change/").content.decode()
    assert agenda.key not in page
