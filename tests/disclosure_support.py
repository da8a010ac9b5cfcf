"""What a staff page should show for a known set of devices (``apps.core.disclosure``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.core.disclosure import Shown, count_round, device_key_of, keys_combined


def shown_for(devices: Iterable[Any]) -> str:
    """The rounded count of ``devices`` as a page prints it (the key of that very set)."""
    ids = [getattr(d, "pk", d) for d in devices]
    key = keys_combined(device_key_of(i) for i in ids)
    return str(Shown(count_round(count=len(ids), key=key)))
