"""Who sees which notifications in the admin, and who may send a test push.

Editors see the notifications about their organizations' items (and the test pushes they sent
themselves); superusers see all, digests included. A test push reaches one chosen phone:
superusers, and staff given the ``notifications.send_test_push`` permission ("Peut envoyer une
notification de test" in the user form; the statistics themselves are read-only for everyone).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.admin.permissions import is_editor, organization_ids
from apps.notifications.models import Notification
from apps.notifications.selectors import notifications_of_organizations

TEST_PUSH_PERMISSION = "notifications.send_test_push"


def is_superuser(user: Any) -> bool:
    return bool(user.is_active and user.is_superuser)


def can_view_notifications(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and (user.is_superuser or is_editor(user)))


def can_send_test_push(user: Any) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perm(TEST_PUSH_PERMISSION))
    )


def organization_scope(user: Any) -> frozenset[int] | None:
    """The organizations whose items ``user`` follows; None means all (superusers)."""
    return None if is_superuser(user) else organization_ids(user)


def visible_notifications(user: Any) -> QuerySet[Notification]:
    scope = organization_scope(user)
    if scope is None:
        return Notification.objects.all()
    return notifications_of_organizations(scope, user_id=user.pk)
