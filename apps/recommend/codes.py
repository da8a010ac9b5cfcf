"""Compact integer codes of the interaction log, and their API spellings (no ORM).

The codes are stored (``SmallIntegerField``) and never renumbered: add new members at the end.
Labels equal the API codes so that the GDPR export reads ``"open"``, not ``2``.
"""

from __future__ import annotations

from django.db.models import IntegerChoices

from apps.core.item_types import ItemType

__all__ = ["ACTION_WEIGHTS", "POSITIVE_ACTIONS", "Action", "Context", "ItemType"]


class _Coded(IntegerChoices):
    @property
    def code(self) -> str:
        """The API spelling (``news``, ``open``, ``feed``)."""
        return self.name.lower()

    @classmethod
    def from_code(cls, code: str) -> _Coded:
        try:
            return cls[code.upper()]
        except KeyError:
            raise ValueError(f"unknown {cls.__name__} {code!r}") from None

    @classmethod
    def codes(cls) -> list[str]:
        return [member.name.lower() for member in cls]


class Action(_Coded):
    IMPRESSION = 1, "impression"
    OPEN = 2, "open"
    SAVE = 3, "save"
    UNSAVE = 4, "unsave"
    LIKE = 5, "like"
    SHARE = 6, "share"
    DISMISS = 7, "dismiss"


class Context(_Coded):
    """Where the action happened in the app."""

    FEED = 1, "feed"
    PUSH = 2, "push"
    MAP = 3, "map"
    SEARCH = 4, "search"
    DETAIL = 5, "detail"


#: Actions that say "I want this" (training positives, popularity).
POSITIVE_ACTIONS: frozenset[Action] = frozenset(
    {Action.OPEN, Action.SAVE, Action.LIKE, Action.SHARE}
)
#: Weights of actions in per-category affinities (``selectors.device_category_affinities``).
ACTION_WEIGHTS: dict[Action, float] = {
    Action.OPEN: 1.0,
    Action.SAVE: 2.0,
    Action.LIKE: 2.0,
    Action.SHARE: 2.0,
    Action.UNSAVE: -1.0,
    Action.DISMISS: -2.0,
}
