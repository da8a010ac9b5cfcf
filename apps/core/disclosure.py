"""Disclosure control: the one way a count of residents' devices is shown to staff.

Every count on a staff page goes through ``disclose``: counts below ``K`` are masked, and so
are enough others that no masked count can be recovered by subtraction (complementary
suppression over the page's "total = parts" relations); every shown count is rounded to a
multiple of ``BASE`` by random rounding keyed on *the set of devices counted* (the cell key:
the sum of a secret pseudo-random key per device). The same set always shows the same
number, so asking again teaches nothing; two sets that differ by one device get independent
rounding. ``docs/privacy.md`` ("Staff statistics") states the guarantee and its argument.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

#: k: the smallest count shown. A count below it could point at a household.
K = 5
#: Shown counts are multiples of this. Equal to ``K`` so that a shown count is never 0 while
#: devices are there, and a rounded count tells a count only to within ±(BASE - 1): the
#: difference of two shown counts never pins a difference of 1 to K - 1 (docs/privacy.md).
BASE = 5
#: Device keys and cell keys live in [0, KEY_MODULUS): a prime below 2**31, so that every
#: product in ``device_key`` fits a 64-bit integer on PostgreSQL and SQLite alike.
KEY_MODULUS = 2_147_483_647
#: How a masked count reads on every staff page.
MASK = _("masqué")


@lru_cache(maxsize=4)
def _constants(secret: str) -> tuple[int, int, int, int]:
    """Four secret multipliers/offsets in [1, KEY_MODULUS) derived from the secret key."""
    digest = hmac.new(secret.encode(), b"quartier.disclosure.v1", hashlib.sha256).digest()
    words = [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8)]
    return tuple(1 + w % (KEY_MODULUS - 1) for w in words)  # type: ignore[return-value]


def _secret() -> tuple[int, int, int, int]:
    return _constants(settings.SECRET_KEY)


def device_key_of(device_id: int) -> int:
    """The secret pseudo-random key of one device, in [0, KEY_MODULUS) (same as the SQL)."""
    a, b, c, d = _secret()
    x = ((device_id % KEY_MODULUS) * a + b) % KEY_MODULUS
    x = (x * x + c) % KEY_MODULUS
    return (x * x + d) % KEY_MODULUS


def device_key(field: str) -> Combinable:
    """``device_key_of`` of the device id in ``field``, as a SQL expression (integer
    arithmetic only, so it runs on PostgreSQL and SpatiaLite and needs no stored column)."""
    a, b, c, d = _secret()
    m = Value(KEY_MODULUS)
    x = ((F(field) % m) * Value(a) + Value(b)) % m
    x = (x * x + Value(c)) % m
    return ExpressionWrapper((x * x + Value(d)) % m, output_field=BigIntegerField())


def key_sum(field: str, *, filter: Q | None = None) -> Sum:
    """The aggregate whose value, reduced by ``cell_key``, is the key of the devices counted."""
    return Sum(device_key(field), filter=filter, output_field=BigIntegerField())


def _key_sql(column: str) -> str:
    """``device_key`` as SQL text over ``column``, for a template: "%" doubled twice (once for
    the template, once for the database driver's placeholders)."""
    a, b, c, d = _secret()
    m = KEY_MODULUS
    x = f"((({column} %%%% {m}) * {a} + {b}) %%%% {m})"
    x = f"(({x} * {x} + {c}) %%%% {m})"
    return f"(({x} * {x} + {d}) %%%% {m})"


class DistinctDevicesCell(Subquery):
    """The ``Cell`` of the distinct ``device_id`` of a correlated subquery, packed in one
    integer (``cell_unpack``): one scan gives both the count and the key, and the key is
    computed once per device, after ``DISTINCT``."""

    output_field = BigIntegerField()

    def __init__(self, queryset: QuerySet[Any], **extra: Any) -> None:
        super().__init__(queryset.values("device_id"), **extra)

    def as_sql(
        self, compiler: Any, connection: Any, template: str | None = None, **extra: Any
    ) -> tuple[str, Any]:
        template = (
            f"(SELECT count(*) * {KEY_MODULUS} + coalesce(sum({_key_sql('_o.device_id')}), 0)"
            f" %%%% {KEY_MODULUS} FROM (SELECT DISTINCT _s.device_id FROM (%(subquery)s) _s) _o)"
        )
        return super().as_sql(compiler, connection, template=template, **extra)


def cell_unpack(packed: int | None) -> Cell:
    """A ``DistinctDevicesCell`` value as a ``Cell``."""
    count, key = divmod(int(packed or 0), KEY_MODULUS)
    return Cell(count, key)


def cell_key(total: int | Decimal | None) -> int:
    """A key sum from the database (None for no rows, a Decimal on PostgreSQL) as a key."""
    return int(total or 0) % KEY_MODULUS


def counter_key(scope: str, count: int) -> int:
    """The key of an anonymous counter, which has no set of devices behind it (opens from push,
    ``apps.notifications.services.opens``): drawn from the secret, the counter's scope and its
    value, so the same value always shows the same number and each next value is rounded
    independently, as two device sets that differ by one are."""
    message = f"quartier.disclosure.counter.v1:{scope}:{count}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % KEY_MODULUS


def keys_combined(keys: Iterable[int]) -> int:
    """The key of the union of disjoint sets, from their keys."""
    return sum(keys) % KEY_MODULUS


@dataclass(frozen=True)
class Cell:
    """A count of devices and the key of the set counted."""

    count: int
    key: int = 0


@dataclass(frozen=True)
class Relation:
    """``total`` counts the union of the disjoint ``parts`` and of what no part counts (the
    remainder, never shown: e.g. devices not pushable, rows erased since)."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Shown:
    """A count as staff see it: ``value`` is None when masked."""

    value: int | None

    @property
    def masked(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        if self.value is None:
            return str(MASK)
        return number_format(self.value, force_grouping=True)


def count_round(*, count: int, key: int) -> int:
    """``count`` rounded to a multiple of ``BASE``, up with probability (remainder / BASE) as
    drawn by ``key``: unbiased, and the same answer for the same set of devices."""
    low, remainder = divmod(count, BASE)
    if remainder == 0:
        return count
    up = key * BASE < remainder * KEY_MODULUS
    return (low + up) * BASE


def suppressed(cells: Mapping[str, Cell], relations: Sequence[Relation] = ()) -> set[str]:
    """The names of the cells to mask: below ``K`` (primary), then complementary cells until,
    in every relation, the total is hidden together with a part, and the uncounted remainder
    plus the masked parts add up to 0 or to at least ``K`` (so no subtraction isolates a
    count from 1 to K - 1). The smallest shown part is masked first."""
    masked = {name for name, cell in cells.items() if cell.count < K}
    changed = True
    while changed:
        changed = False
        for relation in relations:
            total = cells[relation.total].count
            parts = [p for p in relation.parts if p in cells]
            hidden = max(total - sum(cells[p].count for p in parts), 0)
            shown_parts = [p for p in parts if p not in masked]
            if relation.total in masked:
                unsafe = bool(shown_parts) and len(shown_parts) == len(parts)
            else:
                unsafe = 0 < hidden + sum(cells[p].count for p in parts if p in masked) < K
            if not unsafe:
                continue
            if shown_parts:
                masked.add(min(shown_parts, key=lambda p: (cells[p].count, parts.index(p))))
            else:
                masked.add(relation.total)
            changed = True
    return masked


def disclose(cells: Mapping[str, Cell], relations: Sequence[Relation] = ()) -> dict[str, Shown]:
    """Every cell as shown to staff: masked (``suppressed``) or rounded (``count_round``)."""
    masked = suppressed(cells, relations)
    return {
        name: Shown(None if name in masked else count_round(count=cell.count, key=cell.key))
        for name, cell in cells.items()
    }


def count_show(cell: Cell) -> Shown:
    """One count with no relation to others on its page."""
    return disclose({"": cell})[""]
