"""Constants and small helpers shared by the pipeline's modules."""

from __future__ import annotations

import logging

from apps.core.models import Urgency
from apps.notifications.models import Kind

logger = logging.getLogger("apps.notifications.services")


#: Kinds that count towards a device's daily cap and are themselves capped (non-alerts).
CAPPED_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: Kinds tied to an item that must still be public when the push goes out.
ITEM_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: How long FCM keeps a push for an offline phone: the more urgent, the sooner it is stale
#: (an alert read a day late misleads); reminders and tests are only useful shortly.
TTL_S = {Urgency.INFO: 24 * 3600, Urgency.IMPORTANT: 12 * 3600, Urgency.ALERT: 6 * 3600}
KIND_TTL_S = {Kind.REMINDER: 3 * 3600, Kind.TEST: 3600, Kind.DIGEST: 12 * 3600}
#: Auth errors (our credentials) are retried this much later, once someone fixed them.
AUTH_RETRY_S = 600.0
#: ``error_code`` of a row waiting for its retry after an auth error (``auth:RefreshError``…):
#: the admin's alarm counts them (``selectors.push_auth_failures``).
AUTH_CODE_PREFIX = "auth:"


def tag_for(item_type: str, item_id: int) -> str:
    """The collapse id of every push about one item: updates replace the earlier push."""
    return f"{item_type}-{item_id}"
