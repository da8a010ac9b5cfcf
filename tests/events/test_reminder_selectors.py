"""``occurrences_starting``: the occurrences the saved-event reminders look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.core.services import content_publish
from apps.events.selectors import occurrences_starting
from apps.events.services import event_save
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@time_machine.travel(T0, tick=False)
def test_occurrences_starting_keeps_public_listed_events_in_the_window():
    soon, later, draft, other = (
        EventFactory(start_at=T0 + timedelta(hours=h)) for h in (2, 30, 1, 2)
    )
    for event in (soon, later, draft, other):
        event_save(event=event)  # materialises the occurrences
    for event in (soon, later, other):
        content_publish(item=event)
    rows = occurrences_starting(
        event_ids=[soon.pk, later.pk, draft.pk], after=T0, until=T0 + timedelta(hours=3), at=T0
    )
    assert [(o.event_id, o.start_at) for o in rows] == [(soon.pk, T0 + timedelta(hours=2))]


@time_machine.travel(T0, tick=False)
def test_occurrences_starting_excludes_the_lower_bound_and_includes_the_upper():
    at_lower, at_upper = (EventFactory(start_at=T0 + timedelta(hours=h)) for h in (1, 3))
    for event in (at_lower, at_upper):
        event_save(event=event)
        content_publish(item=event)
    rows = occurrences_starting(
        event_ids=[at_lower.pk, at_upper.pk],
        after=T0 + timedelta(hours=1),
        until=T0 + timedelta(hours=3),
        at=T0,
    )
    assert [o.event_id for o in rows] == [at_upper.pk]


@time_machine.travel(T0, tick=False)
def test_occurrences_starting_loads_event_and_venue_in_one_query(django_assert_num_queries):
    event = EventFactory(start_at=T0 + timedelta(hours=2))
    event_save(event=event)
    content_publish(item=event)
    with django_assert_num_queries(1):
        rows = list(
            occurrences_starting(
                event_ids=[event.pk], after=T0, until=T0 + timedelta(hours=3), at=T0
            )
        )
        assert [(o.event.pk, o.event.venue) for o in rows] == [(event.pk, None)]
