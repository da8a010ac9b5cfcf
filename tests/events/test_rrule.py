"""RRULE validation agrees with the expansion: what the validator accepts, the service expands."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.events.models import validate_rrule
from apps.events.services import event_expand


def test_rrule_until_in_utc_is_accepted_and_expanded():
    start = timezone.now().replace(microsecond=0)
    # Two hours of margin: a daylight-saving change keeps local times, not UTC ones.
    until = start + timedelta(days=2, hours=2)
    rule = f"FREQ=DAILY;UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"

    validate_rrule(rule)
    spans = event_expand(start_at=start, end_at=start + timedelta(hours=1), rrule=rule)

    assert len(spans) == 3


def test_rrule_until_without_time_zone_is_refused_by_the_validator():
    with pytest.raises(ValidationError, match="UNTIL doit être en UTC"):
        validate_rrule("FREQ=DAILY;UNTIL=20300101T000000")


def test_event_expand_turns_a_dateutil_error_into_a_validation_error():
    start = timezone.now()
    with pytest.raises(ValidationError):
        event_expand(start_at=start, end_at=start, rrule="FREQ=DAILY;UNTIL=20300101T000000")
