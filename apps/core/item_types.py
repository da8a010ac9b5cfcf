"""The content types, one vocabulary: API code, stored integer, engine index (no Django import).

Two codings are stored and never change meaning: the interaction log stores the small integer
(``Interaction.item_type``: 1, 2, 3), notifications and saved items store the API code
(``"news"``, ``"works"``, ``"events"``). The recommendation engine indexes its numpy arrays by
``index`` (0, 1, 2). All three come from this one enum, so that a new type is added here once
(at the end: the integers are never renumbered). The engine imports no other app, so it keeps a
copy of ``ITEM_TYPES`` that tests/core/test_vocabulary.py pins to this one.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class ItemType(IntEnum):
    """A content type; the value is the interaction log's stored integer."""

    # As Django's ``IntegerChoices`` (set below the class: an enum body would make them members).
    choices: ClassVar[list[tuple[int, str]]]
    values: ClassVar[list[int]]

    NEWS = 1
    WORKS = 2
    EVENTS = 3

    @property
    def code(self) -> str:
        """The API spelling, also the ``type_code`` of the model (``news``, ``works``)."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """As ``code``, so that the GDPR export of the interaction log reads ``"news"``."""
        return self.code

    @property
    def index(self) -> int:
        """The position in ``ITEM_TYPES``: the engine's array index (0, 1, 2)."""
        return self.value - 1

    @property
    def title(self) -> Any:
        """The type's name for people (admin labels, notification choices): a lazy gettext
        string, French msgid. Django is imported here, not at module level (see above)."""
        from django.utils.translation import gettext_lazy as _

        titles = {
            ItemType.NEWS: _("Actualité"),
            ItemType.WORKS: _("Travaux"),
            ItemType.EVENTS: _("Événement"),
        }
        return titles[self]

    @classmethod
    def from_code(cls, code: str) -> ItemType:
        try:
            return cls[code.upper()]
        except KeyError:
            raise ValueError(f"unknown {cls.__name__} {code!r}") from None

    @classmethod
    def from_index(cls, index: int) -> ItemType:
        return cls(index + 1)

    @classmethod
    def codes(cls) -> list[str]:
        return [member.code for member in cls]


#: The API codes in ``index`` order (``("news", "works", "events")``).
ITEM_TYPES: tuple[str, ...] = tuple(ItemType.codes())
#: API code → engine index (``{"news": 0, …}``).
TYPE_INDEX: dict[str, int] = {t.code: t.index for t in ItemType}

#: Choices of a column storing the integer (the interaction log), labelled by API code.
INT_CHOICES: list[tuple[int, str]] = [(t.value, t.code) for t in ItemType]
#: Choices of a column storing the API code, labelled by itself (saved items, API fields).
CODE_CHOICES: list[tuple[str, str]] = [(t.code, t.code) for t in ItemType]

ItemType.choices = INT_CHOICES
ItemType.values = [t.value for t in ItemType]
