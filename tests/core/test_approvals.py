"""The two-person rule in the services: who waits for a validator, approving, refusing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.alerts.models import CapMessage
from apps.core.approvals import approval_approve, approval_history, approval_refuse
from apps.core.models import ApprovalRequest, ApprovalState, Membership, Status, Urgency
from apps.core.services import (
    content_apply,
    content_delete,
    content_publish,
    content_schedule,
    content_unpublish,
)
from apps.notifications.models import Delivery, Notification
from tests.factories import NewsFactory, UserFactory
from tests.notifications.conftest import log_backend  # noqa: F401 (a fixture)
from tests.notifications.helpers import phone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def alert(city, **fields):
    return NewsFactory(organization=city, urgency=Urgency.ALERT, notify=True, **fields)


def nothing_sent() -> bool:
    return (
        not Notification.objects.exists()
        and not Delivery.objects.exists()
        and not CapMessage.objects.exists()
    )


@pytest.fixture
def devices(db):
    return [phone(), phone()]


def test_approval_writer_alert_waits_and_nothing_is_enqueued(
    city, city_writer, city_validator, city_editor, devices, django_capture_on_commit_callbacks
):
    item = alert(city)
    with django_capture_on_commit_callbacks(execute=True):
        returned = content_publish(item=item, user=city_writer)
    item.refresh_from_db()
    assert returned.status == item.status == Status.DRAFT
    assert item.published_at is None
    request = ApprovalRequest.objects.get()
    assert request.state == ApprovalState.PENDING
    assert request.requested_by == city_writer
    assert request.reasons == "alert,role"
    assert (request.item_type, request.item_id, request.organization) == ("news", item.pk, city)
    assert nothing_sent()
    # Both validators of the city are told, by e-mail, with the link to the item.
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["camille@ville.example", "nadia@ville.example"]
    assert "À valider" in mail.outbox[0].subject
    assert f"/admin/news/news/{item.pk}/change/" in mail.outbox[0].body


def test_approval_by_a_validator_publishes_and_the_push_leaves(
    city, city_writer, city_validator, devices, django_capture_on_commit_callbacks
):
    item = alert(city)
    content_publish(item=item, user=city_writer)
    request = ApprovalRequest.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approval_approve(request=request, user=city_validator)
    item.refresh_from_db()
    request.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert request.state == ApprovalState.APPROVED
    assert request.decided_by == city_validator and request.decided_at is not None
    notification = Notification.objects.get()
    assert notification.item_id == item.pk
    assert Delivery.objects.filter(notification=notification).count() == 2
    # The requester hears of it (the validator who decided does not mail themselves).
    assert [m.to for m in mail.outbox] == [["lucas@ville.example"]]
    assert "Approuvé" in mail.outbox[0].subject


def test_approval_of_a_schedule_request_schedules_at_the_asked_date(
    city, city_writer, city_validator
):
    item = alert(city)
    when = timezone.now() + timedelta(days=1)
    content_schedule(item=item, publish_at=when, user=city_writer)
    item.refresh_from_db()
    assert item.status == Status.DRAFT
    request = ApprovalRequest.objects.get()
    assert request.action == "schedule" and request.publish_at == when
    approval_approve(request=request, user=city_validator)
    item.refresh_from_db()
    assert item.status == Status.SCHEDULED and item.publish_at == when
    assert nothing_sent()


def test_approval_a_validator_cannot_approve_their_own_request(
    city, city_editor, city_validator, devices
):
    item = alert(city)
    content_publish(item=item, user=city_editor)
    request = ApprovalRequest.objects.get()
    assert request.reasons == "alert"  # a validator's alert waits too
    with pytest.raises(PermissionDenied):
        approval_approve(request=request, user=city_editor)
    with pytest.raises(PermissionDenied):
        approval_refuse(request=request, user=city_editor, reason="Non")
    request.refresh_from_db()
    item.refresh_from_db()
    assert request.state == ApprovalState.PENDING and item.status == Status.DRAFT
    assert nothing_sent()
    approval_approve(request=request, user=city_validator)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED


def test_approval_the_database_refuses_self_approval(city, city_editor):
    item = alert(city)
    content_publish(item=item, user=city_editor)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.update(
            state=ApprovalState.APPROVED, decided_by=city_editor, decided_at=timezone.now()
        )


def test_approval_a_writer_or_another_organization_cannot_decide(
    city, city_editor, city_writer, metropole_editor
):
    item = alert(city)
    content_publish(item=item, user=city_editor)
    request = ApprovalRequest.objects.get()
    for user in (city_writer, metropole_editor):
        with pytest.raises(PermissionDenied):
            approval_approve(request=request, user=user)
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING


def test_approval_superuser_approves_but_also_needs_a_second_person(city, city_editor, superuser):
    item = alert(city)
    content_publish(item=item, user=superuser)
    request = ApprovalRequest.objects.get()
    assert request.reasons == "alert"  # superusers bypass roles, not the two-person rule
    with pytest.raises(PermissionDenied):
        approval_approve(request=request, user=superuser)
    approval_approve(request=request, user=city_editor)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED


def test_approval_refusal_needs_a_reason_and_goes_back_to_draft(
    city, city_writer, city_validator, city_editor, devices, django_capture_on_commit_callbacks
):
    item = alert(city)
    content_publish(item=item, user=city_writer)
    request = ApprovalRequest.objects.get()
    mail.outbox.clear()
    for blank in ("", "   "):
        with pytest.raises(ValidationError):
            approval_refuse(request=request, user=city_validator, reason=blank)
    with pytest.raises(ValidationError):
        approval_refuse(request=request, user=city_validator, reason="x" * 2001)
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        approval_refuse(
            request=request, user=city_validator, reason="  Ce n'est pas une urgence.  "
        )
    request.refresh_from_db()
    item.refresh_from_db()
    assert request.state == ApprovalState.REFUSED
    assert request.refusal_reason == "Ce n'est pas une urgence."
    assert request.decided_by == city_validator
    assert item.status == Status.DRAFT
    assert nothing_sent()
    # The requester and the other validator are told, with the reason.
    assert sorted(mail.outbox[0].to) == ["camille@ville.example", "lucas@ville.example"]
    assert "Ce n'est pas une urgence." in mail.outbox[0].body
    # A decided request is decided: no second decision.
    with pytest.raises(ValidationError):
        approval_approve(request=request, user=city_editor)
    # The writer may ask again; the history keeps both requests, newest first.
    content_publish(item=item, user=city_writer)
    history = approval_history(item)
    assert [r.state for r in history] == [ApprovalState.PENDING, ApprovalState.REFUSED]


def test_approval_one_pending_request_per_item(city, city_writer):
    item = alert(city)
    content_publish(item=item, user=city_writer)
    with pytest.raises(ValidationError):
        content_publish(item=item, user=city_writer)
    assert ApprovalRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("urgency", "geometry", "reasons"),
    [
        (Urgency.ALERT, "point", "alert"),
        (Urgency.IMPORTANT, None, "city_wide"),
        (Urgency.ALERT, None, "alert,city_wide"),
    ],
)
def test_approval_validator_sensitive_items_wait(city, city_editor, urgency, geometry, reasons):
    item = NewsFactory(organization=city, urgency=urgency, notify=True)
    if geometry is None:
        item.geometry = None
        item.save()
    content_publish(item=item, user=city_editor)
    item.refresh_from_db()
    assert item.status == Status.DRAFT
    assert ApprovalRequest.objects.get().reasons == reasons
    assert nothing_sent()


@pytest.mark.parametrize(
    ("urgency", "notify", "city_wide"),
    [
        (Urgency.IMPORTANT, True, False),  # targeted, not an alert
        (Urgency.ALERT, False, False),  # an alert that pushes nothing
        (Urgency.INFO, False, True),  # city-wide, no push
    ],
)
def test_approval_validator_publishes_ordinary_items_at_once(
    city, city_editor, urgency, notify, city_wide
):
    item = NewsFactory(organization=city, urgency=urgency, notify=notify)
    if city_wide:
        item.geometry = None
        item.save()
    content_publish(item=item, user=city_editor)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert not ApprovalRequest.objects.exists()


def test_approval_writer_waits_even_for_an_ordinary_item(city, city_writer, city_validator):
    item = NewsFactory(organization=city, urgency=Urgency.INFO, notify=False)
    content_publish(item=item, user=city_writer)
    item.refresh_from_db()
    assert item.status == Status.DRAFT
    assert ApprovalRequest.objects.get().reasons == "role"
    approval_approve(request=ApprovalRequest.objects.get(), user=city_validator)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED


def test_approval_the_system_is_not_held(city, devices, django_capture_on_commit_callbacks):
    """API keys, imports and the beat act as ``user=None``: not a person, no request."""
    item = alert(city)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=item)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert not ApprovalRequest.objects.exists()
    assert Notification.objects.count() == 1


def test_approval_api_write_with_published_status_opens_a_request(city, city_writer, mobility):
    item = NewsFactory.build(organization=city, category=mobility)
    stored = content_apply(
        item=item,
        data={
            "title_fr": "Fuite de gaz",
            "urgency": Urgency.ALERT,
            "notify": True,
            "status": Status.PUBLISHED,
        },
        user=city_writer,
    )
    assert stored.status == Status.DRAFT
    assert ApprovalRequest.objects.get().item_id == stored.pk
    assert nothing_sent()


def test_approval_escalating_a_scheduled_item_is_refused(city, city_editor, city_writer):
    item = NewsFactory(organization=city, urgency=Urgency.INFO, notify=True)
    content_schedule(item=item, publish_at=timezone.now() + timedelta(days=1), user=city_editor)
    item.refresh_from_db()
    assert item.status == Status.SCHEDULED
    for user in (city_writer, city_editor):
        with pytest.raises(ValidationError):
            content_apply(item=item, data={"urgency": Urgency.ALERT}, user=user)
        item.refresh_from_db()
        assert item.urgency == Urgency.INFO
    # A change that adds no push reason is fine.
    content_apply(item=item, data={"title_fr": "Nouveau titre"}, user=city_writer)
    item.refresh_from_db()
    assert item.title_fr == "Nouveau titre"


def test_approval_unpublish_or_delete_withdraws_the_request(city, city_writer, city_validator):
    first, second = alert(city), alert(city)
    content_publish(item=first, user=city_writer)
    content_publish(item=second, user=city_writer)
    content_unpublish(item=first, user=city_writer)
    content_delete(item=second, user=city_writer)
    states = dict(ApprovalRequest.objects.values_list("item_id", "state"))
    assert states == {first.pk: ApprovalState.WITHDRAWN, second.pk: ApprovalState.WITHDRAWN}
    with pytest.raises(ValidationError):
        approval_approve(request=ApprovalRequest.objects.get(item_id=first.pk), user=city_validator)


def test_approval_no_other_validator_tells_the_superusers(
    city, city_editor, superuser, django_capture_on_commit_callbacks
):
    item = alert(city)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=item, user=city_editor)
    assert [m.to for m in mail.outbox] == [["admin@ville.example"]]


def test_approval_existing_members_became_validators():
    """The data migration: everyone who published before roles keeps publishing."""
    from importlib import import_module

    from django.apps import apps as global_apps

    migration = import_module("apps.core.migrations.0004_approval_roles")
    user = UserFactory()
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    membership = Membership.objects.create(user=user, organization=org, role="editor")
    migration.members_become_validators(global_apps, None)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.VALIDATOR
