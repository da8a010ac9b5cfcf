"""Building blocks of the pipeline tests: residents with places and follows, pushes received."""

from __future__ import annotations

import itertools
from typing import Any

from apps.core.geo import point
from apps.notifications.gateway.configured import get_gateway
from apps.residents.models import AreaFollow, CategoryFollow, Device, Place
from tests.factories import CENTRE_LAT, CENTRE_LON
from tests.residents.factories import Resident, make_resident

_tokens = itertools.count(1)

# About 1 km east of the centre and 30 km away: inside and far outside a 500 m place.
NEAR = (CENTRE_LON, CENTRE_LAT)
FAR = (CENTRE_LON + 0.4, CENTRE_LAT)


def phone(
    *,
    at: tuple[float, float] | None = NEAR,
    radius_m: int = 500,
    label: str = "home",
    follows: Any = (),
    areas: Any = (),
    token: str | None = None,
    **preferences: Any,
) -> Device:
    """A registered device with a live push token, one place (unless ``at`` is None) and
    follows of ``follows`` (categories) and ``areas``."""
    return phone_resident(
        at=at,
        radius_m=radius_m,
        label=label,
        follows=follows,
        areas=areas,
        token=token,
        **preferences,
    ).device


def phone_resident(
    *,
    at: tuple[float, float] | None = NEAR,
    radius_m: int = 500,
    label: str = "home",
    follows: Any = (),
    areas: Any = (),
    token: str | None = None,
    **preferences: Any,
) -> Resident:
    """``phone`` with its bearer token and an API client (``Resident``)."""
    token = token or f"token-{next(_tokens):06d}-" + "x" * 40
    resident = make_resident(push_token=token, **preferences)
    device = resident.device
    if at is not None:
        Place.objects.create(device=device, label=label, location=point(*at), radius_m=radius_m)
    for category in follows:
        CategoryFollow.objects.create(device=device, category=category)
    for area in areas:
        AreaFollow.objects.create(device=device, area=area)
    return resident


def pushed_tokens() -> list[str]:
    """Tokens the log backend "sent" to, in order."""
    return [record.push.token for record in get_gateway().records()]


def pushes() -> list[Any]:
    return [record.push for record in get_gateway().records()]
