"""The resident's feed inputs (places, follows, history), cached between feed requests.

A personal first page needs the device's places, follows and last interactions
(``selectors.resident_inputs``, one query). They change only when the resident writes
(``/me/`` places, interests, preferences: ``residents.signals.profile_changed``; direct model
writes), when the app reports interactions (``services.interactions_log``), on a transfer or
on erasure; each of those calls ``resident_inputs_forget``, now and again on commit (a feed
request that read the rows before the commit must not leave them cached). Erasure and a
withdrawn consent reach this cache too (docs/privacy.md). Entries live ``INPUTS_TTL``.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

from apps.recommend.selectors import ResidentInputs, resident_inputs

#: How long a device's inputs stay cached without any write (seconds).
INPUTS_TTL = 30 * 60
_PREFIX = "feed:inputs:"
#: ``found``'s default: the caller did not read the cache (``None`` is a miss).
_UNREAD: Any = object()


def inputs_key(device_id: int) -> str:
    """The cache key of the device's inputs."""
    return f"{_PREFIX}{device_id}"


def resident_inputs_cached(*, device_id: int, found: Any = _UNREAD) -> ResidentInputs:
    """``resident_inputs`` of the device, from the cache when nothing changed since.
    ``found``: the value of ``inputs_key(device_id)`` if the caller read it already."""
    key = inputs_key(device_id)
    if found is _UNREAD:
        found = cache.get(key)
    if isinstance(found, ResidentInputs):
        return found
    inputs = resident_inputs(device_id=device_id)  # one query
    cache.set(key, inputs, INPUTS_TTL)
    return inputs


def resident_inputs_forget(*device_ids: int) -> None:
    """Drop the cached inputs of ``device_ids`` (now, and again when the transaction commits)."""
    keys = [f"{_PREFIX}{device_id}" for device_id in device_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
