"""Constants and small helpers shared by the pipeline's modules."""

from __future__ import annotations

import logging

from apps.notifications.policy import (
    AUTH_CODE_PREFIX,
    AUTH_RETRY_S,
    CAPPED_KINDS,
    ITEM_KINDS,
    KIND_TTL_S,
    TTL_S,
)

# The rules' constants live with the rules (``policy``); the pipeline's callers import them here.
__all__ = [
    "AUTH_CODE_PREFIX",
    "AUTH_RETRY_S",
    "CAPPED_KINDS",
    "ITEM_KINDS",
    "KIND_TTL_S",
    "TTL_S",
    "logger",
    "tag_for",
]

logger = logging.getLogger("apps.notifications.services")


def tag_for(item_type: str, item_id: int) -> str:
    """The collapse id of every push about one item: updates replace the earlier push."""
    return f"{item_type}-{item_id}"
