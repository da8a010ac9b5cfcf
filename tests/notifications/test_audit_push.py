"""Every push in the audit trail: who triggered it, for which item, when it was first sent, and
its device counts only rounded or masked in the export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.audit.trail import TrailFilter, trail_rows
from apps.core.models import Membership
from apps.core.services import content_publish
from apps.notifications.models import Kind, Notification
from tests.factories import CategoryFactory, WorksFactory
from tests.notifications.helpers import phone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def test_a_push_sent_is_recorded_with_its_trigger_item_and_send_time(
    city, city_editor, django_capture_on_commit_callbacks
):
    # A validator publishes without a second person (apps.core.approval_rule).
    Membership.objects.filter(user=city_editor).update(role=Membership.Role.VALIDATOR)
    mobility = CategoryFactory(slug="mobilite")
    phone(follows=[mobility])
    works = WorksFactory(organization=city, category=mobility, notify=True)

    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works, user=city_editor)

    notification = Notification.objects.get(kind=Kind.NEW)
    rows = list(notification.history.order_by("history_id"))
    created, sent = rows[0], rows[-1]
    assert created.history_type == "+"
    assert created.history_user == city_editor and notification.created_by == city_editor
    assert (created.item_type, created.item_id) == ("works", works.pk)
    assert sent.history_type == "~" and sent.history_change_reason == "premier envoi"
    assert sent.first_sent_at == notification.first_sent_at is not None
    assert sent.history_actor  # the task that sent it, or « système » when run in process

    now = timezone.now()
    exported = [
        r
        for r in trail_rows(
            TrailFilter(
                since=now - timedelta(hours=1),
                until=now + timedelta(hours=1),
                item_type="works",
                item_id=works.pk,
            )
        )
        if r.object_type == "notification"
    ]
    by_field = {(r.action, r.field): r for r in exported}
    assert by_field[("modification", "premier envoi")].new
    # One device: below the disclosure threshold, so masked, never "1".
    counts = [r for r in exported if r.field in ("appareils ciblés", "appareils atteints")]
    assert counts and {r.new for r in counts} == {"masqué"}
