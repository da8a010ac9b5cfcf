"""A CAP alert received from a source becomes a draft that goes through the two-person rule."""

from __future__ import annotations

import pytest

from apps.alerts.models import CapMessage, SourceKind
from apps.alerts.services import cap_document_receive
from apps.core.approvals import approval_approve
from apps.core.models import ApprovalRequest, Membership, Status
from apps.core.services import content_publish
from apps.news.models import News
from apps.notifications.models import Notification
from tests.alerts.test_cap_in import data, source_of  # noqa: F401 (a fixture)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_cap_in_draft_waits_for_a_second_validator(source_of, django_capture_on_commit_callbacks):  # noqa: F811
    source = source_of("http://unused.example/a.xml", kind=SourceKind.FILE)
    cap_document_receive(source=source, document=data("insee_alert.xml"))
    draft = News.objects.get()
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        Membership.objects.create(
            user=user, organization=source.organization, role=Membership.Role.VALIDATOR
        )
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=draft, user=first)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert ApprovalRequest.objects.get().reasons == "alert"
    assert not Notification.objects.exists() and not CapMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        approval_approve(request=ApprovalRequest.objects.get(), user=second)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert Notification.objects.filter(item_id=draft.pk).exists()
    assert CapMessage.objects.filter(item_id=draft.pk).exists()
