"""The DiaLog outbox against the fake DiaLog (tasks eager, commits simulated): what each
write of a linked roadwork sends, once, and what DiaLog's errors leave on the item."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Status
from apps.core.services import content_delete, content_publish, content_unpublish
from apps.interop.models import ChangeStatus, DialogChange, RemoteState, SourceItem
from apps.works.services import works_apply, works_cancel
from testing.fakedialog import Fault
from tests.factories import OrganizationFactory
from tests.interop.dialog_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    changes_of,
    closed_works,
    committed,
    linked_organization,
    regulation_of,
    sweep_after,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization(fake_dialog):
    return linked_organization(slug="voirie")


def publish(works, capture):
    with committed(capture):
        content_publish(item=works)
    works.refresh_from_db()
    return works


def test_publishing_creates_then_publishes_the_regulation_once(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    identifier = f"QRT-{works.pk}"
    held = fake_dialog.regulation(identifier)
    assert held is not None and held.status == "published"
    assert held.body["title"] == "Rue barrée"
    assert [m["type"] for m in held.body["measures"]] == ["noEntry"]
    location = held.body["measures"][0]["locations"][0]
    assert location["roadType"] == "rawGeoJSON"
    assert json.loads(location["rawGeoJSON"]["geometry"])["type"] == "LineString"
    assert [(r.method, r.path, r.status) for r in fake_dialog.log] == [
        ("POST", "/api/regulations", 201),
        ("PUT", f"/api/regulations/publish/{identifier}", 200),
    ]
    headers = fake_dialog.headers_seen[0]
    assert headers["x-client-id"] == CLIENT_ID
    assert headers["x-client-secret"] == CLIENT_SECRET
    assert headers["content-type"].startswith("application/json")
    [change] = changes_of(works)
    assert (change.status, change.attempts, change.error) == (ChangeStatus.DONE, 1, "")
    assert regulation_of(works).remote_state == RemoteState.PUBLISHED


def test_a_draft_is_never_sent_whatever_is_edited(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = closed_works(organization)
    with committed(django_capture_on_commit_callbacks):
        works_apply(works=works, data={"title_fr": "Rue barrée (brouillon)"})
        works_apply(works=works, data={"reduced_speed_limit_kph": 30})

    assert fake_dialog.log == []
    assert DialogChange.objects.count() == 0


def test_a_change_is_sent_as_one_update_and_an_unchanged_save_sends_nothing(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    fake_dialog.log.clear()

    with committed(django_capture_on_commit_callbacks):
        works_apply(works=works, data={"reduced_speed_limit_kph": 30})
    with committed(django_capture_on_commit_callbacks):
        works_apply(works=works, data={"contractor": "Entreprise Martin"})  # not in DiaLog

    assert [(r.method, r.status) for r in fake_dialog.log] == [("PUT", 200)]
    held = fake_dialog.regulation(f"QRT-{works.pk}")
    assert [m["type"] for m in held.body["measures"]] == ["noEntry", "speedLimitation"]
    assert held.body["measures"][1]["maxSpeed"] == 30
    assert [c.status for c in changes_of(works)] == [
        ChangeStatus.DONE,
        ChangeStatus.DONE,
        ChangeStatus.SKIPPED,
    ]


def test_periods_are_sent_with_days_and_time_slots(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    today = timezone.localdate()
    with committed(django_capture_on_commit_callbacks):
        works_apply(
            works=works,
            data={
                "periods": [
                    {
                        "start_date": today,
                        "end_date": today + timedelta(days=5),
                        "weekdays": "12345",
                        "daily_start_time": "21:00",
                        "daily_end_time": "05:00",
                    }
                ]
            },
        )

    [period] = fake_dialog.regulation(f"QRT-{works.pk}").body["measures"][0]["periods"]
    assert period["recurrenceType"] == "certainDays"
    assert period["dailyRange"]["applicableDays"] == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ]
    assert period["timeSlots"][0]["startTime"].startswith(f"{today.isoformat()}T21:00:00")


def test_cancelling_deletes_the_regulation(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    with committed(django_capture_on_commit_callbacks):
        works_cancel(works=works)

    assert fake_dialog.regulation(f"QRT-{works.pk}") is None
    assert fake_dialog.log[-1].method == "DELETE"
    assert regulation_of(works).remote_state == RemoteState.DELETED


def test_deleting_the_works_deletes_the_regulation(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    pk = works.pk

    with committed(django_capture_on_commit_callbacks):
        content_delete(item=works)

    assert fake_dialog.regulation(f"QRT-{pk}") is None
    assert [r.method for r in fake_dialog.log] == ["POST", "PUT", "DELETE"]


def test_unpublishing_deletes_and_republishing_creates_again(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    with committed(django_capture_on_commit_callbacks):
        content_unpublish(item=works)
    assert fake_dialog.regulation(f"QRT-{works.pk}") is None

    publish(works, django_capture_on_commit_callbacks)

    assert fake_dialog.regulation(f"QRT-{works.pk}").status == "published"
    assert [r.method for r in fake_dialog.log] == ["POST", "PUT", "DELETE", "POST", "PUT"]


def test_works_of_an_unlinked_organization_or_from_an_import_are_not_sent(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    from apps.interop.models import Source, SourceFormat

    other = publish(closed_works(OrganizationFactory()), django_capture_on_commit_callbacks)
    imported = closed_works(organization)
    source = Source.objects.create(
        name="DiaLog", format=SourceFormat.DATEX2, url="http://dialog.invalid/x.xml",
        organization=organization, category=imported.category,
    )  # fmt: skip
    SourceItem.objects.create(source=source, external_id="x", works=imported, fingerprint="f")
    publish(imported, django_capture_on_commit_callbacks)

    assert fake_dialog.log == []
    assert not changes_of(other) and not changes_of(imported)


def test_a_422_leaves_the_french_violations_on_the_change_and_is_not_retried(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    violation = {
        "propertyPath": "measures[0].periods[0].endDate",
        "title": "La date de fin doit être postérieure à la date de début.",
        "parameters": {},
    }
    fake_dialog.script(
        Fault(422, {"status": 422, "detail": "Validation failed", "violations": [violation]})
    )

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert change.status == ChangeStatus.FAILED
    assert change.http_status == 422
    assert change.violations == [
        {"propertyPath": violation["propertyPath"], "title": violation["title"]}
    ]
    assert "La date de fin doit être postérieure à la date de début." in change.error
    assert change.error.startswith("DiaLog a refusé l'arrêté")
    sweep_after(7200, django_capture_on_commit_callbacks)
    assert len(fake_dialog.log) == 1  # a refusal is not sent again


def test_a_400_business_error_is_shown_with_its_detail(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    detail = "La géométrie est en dehors du territoire de l'organisation."
    fake_dialog.script(Fault(400, {"status": 400, "detail": detail}))

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.http_status) == (ChangeStatus.FAILED, 400)
    assert detail in change.error


def test_a_401_waits_for_the_credentials_to_be_fixed(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    fake_dialog.clients[CLIENT_ID] = "rotated"

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.http_status) == (ChangeStatus.PENDING, 401)
    assert "identifiants" in change.error
    assert change.not_before > timezone.now() + timedelta(minutes=9)
    fake_dialog.clients[CLIENT_ID] = CLIENT_SECRET
    sweep_after(660, django_capture_on_commit_callbacks)
    change.refresh_from_db()
    assert change.status == ChangeStatus.DONE
    assert fake_dialog.regulation(f"QRT-{works.pk}").status == "published"


def test_a_503_is_retried_later_and_sent_once(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    fake_dialog.script(Fault(503), Fault(502))

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.attempts, change.http_status) == (ChangeStatus.PENDING, 1, 503)
    assert "DiaLog est indisponible (503)" in change.error
    for _round in range(2):
        sweep_after(3600, django_capture_on_commit_callbacks)
    change.refresh_from_db()
    assert (change.status, change.attempts, change.error) == (ChangeStatus.DONE, 3, "")
    assert len(fake_dialog.requests("POST", ok=True)) == 1
    assert fake_dialog.regulation(f"QRT-{works.pk}").status == "published"


def test_a_timeout_is_retried(
    fake_dialog, organization, settings, django_capture_on_commit_callbacks
):
    settings.DIALOG_TIMEOUT_S = 0.3
    fake_dialog.script(Fault(503, hang_s=1.0))

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.http_status) == (ChangeStatus.PENDING, 0)
    assert "ne répond pas à temps" in change.error


def test_a_create_dialog_applied_but_whose_answer_was_lost_is_not_created_twice(
    fake_dialog, organization, settings, django_capture_on_commit_callbacks
):
    settings.DIALOG_TIMEOUT_S = 0.3
    fake_dialog.script(Fault(201, hang_s=1.0, apply=True, method="POST"))

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    [change] = changes_of(works)
    assert change.status == ChangeStatus.PENDING
    sweep_after(3600, django_capture_on_commit_callbacks)

    change.refresh_from_db()
    assert change.status == ChangeStatus.DONE
    assert [(r.method, r.path) for r in fake_dialog.log[1:]] == [
        ("GET", "/api/organization/identifiers"),
        ("PUT", "/api/regulations"),
    ]
    assert fake_dialog.regulation(f"QRT-{works.pk}").status == "published"


def test_retries_end_after_the_last_attempt(
    fake_dialog, organization, settings, django_capture_on_commit_callbacks
):
    settings.DIALOG_MAX_ATTEMPTS = 2
    fake_dialog.storm(503, 60)

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    sweep_after(3600, django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.attempts) == (ChangeStatus.FAILED, 2)
    assert change.error.startswith("Abandon après 2 essais.")


def test_changes_of_one_works_go_in_order_behind_a_retry(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    fake_dialog.script(Fault(503))
    works = publish(closed_works(organization), django_capture_on_commit_callbacks)
    with committed(django_capture_on_commit_callbacks):
        works_cancel(works=works)
    assert [c.status for c in changes_of(works)] == [ChangeStatus.PENDING, ChangeStatus.PENDING]
    assert len(fake_dialog.log) == 1

    sweep_after(3600, django_capture_on_commit_callbacks)

    # The upsert found the works cancelled (not public): nothing created, nothing to delete.
    assert [c.status for c in changes_of(works)] == [ChangeStatus.SKIPPED, ChangeStatus.DONE]
    assert fake_dialog.regulation(f"QRT-{works.pk}") is None
    assert works.status == Status.PUBLISHED


def test_the_outbox_costs_an_unlinked_organisation_one_query_per_write(
    fake_dialog, django_assert_num_queries
):
    from apps.interop.dialog.services import works_change_record

    works = closed_works(OrganizationFactory(), status=Status.PUBLISHED)

    with django_assert_num_queries(1):
        assert works_change_record(works_id=works.pk) is None


def test_the_works_status_clock_outside_a_transaction_is_recorded_too(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    """``works_status_refresh`` sends ``content_saved`` outside any atomic block."""
    from apps.works.services import works_status_refresh

    works = publish(
        closed_works(organization, start_at=timezone.now() + timedelta(hours=1)),
        django_capture_on_commit_callbacks,
    )

    with committed(django_capture_on_commit_callbacks):
        moved = works_status_refresh(at=timezone.now() + timedelta(hours=2))

    assert moved == 1
    assert [c.status for c in changes_of(works)] == [ChangeStatus.DONE, ChangeStatus.SKIPPED]


def test_a_create_refused_because_dialog_already_holds_the_identifier_updates_it(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    """Our record of it was lost (a database restored from an older backup)."""
    from testing.fakedialog.server import Regulation

    works = closed_works(organization)
    identifier = f"QRT-{works.pk}"
    fake_dialog.regulations[(CLIENT_ID, identifier)] = Regulation(identifier, {"title": "Vieux"})

    publish(works, django_capture_on_commit_callbacks)

    assert [(r.method, r.path, r.status) for r in fake_dialog.log] == [
        ("POST", "/api/regulations", 422),
        ("GET", "/api/organization/identifiers", 200),
        ("PUT", "/api/regulations", 200),
    ]
    held = fake_dialog.regulation(identifier)
    assert (held.status, held.body["title"]) == ("published", "Rue barrée")
    assert [c.status for c in changes_of(works)] == [ChangeStatus.DONE]


def test_a_create_refused_on_its_identifier_that_dialog_does_not_hold_is_a_refusal(
    fake_dialog, organization, django_capture_on_commit_callbacks
):
    violation = {"propertyPath": "identifier", "title": "Cette valeur est trop longue."}
    fake_dialog.script(Fault(422, {"status": 422, "violations": [violation]}, method="POST"))

    works = publish(closed_works(organization), django_capture_on_commit_callbacks)

    [change] = changes_of(works)
    assert (change.status, change.violations) == (ChangeStatus.FAILED, [violation])
    assert "identifier : Cette valeur est trop longue." in change.error
