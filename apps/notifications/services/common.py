"""Small helpers shared by the pipeline's modules (its logger, the collapse tag)."""

from __future__ import annotations

import logging

logger = logging.getLogger("apps.notifications.services")


def tag_for(item_type: str, item_id: int) -> str:
    """The collapse id of every push about one item: updates replace the earlier push."""
    return f"{item_type}-{item_id}"
