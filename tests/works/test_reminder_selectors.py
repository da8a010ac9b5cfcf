"""``works_starting``: the works the roadworks reminders of the evening before look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.core.services import content_publish
from apps.works.models import WorkStatus
from apps.works.selectors import works_starting
from tests.factories import WorksFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 17, 30, tzinfo=UTC)
START = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # tomorrow 00:00 in Paris
END = START + timedelta(days=1)


@time_machine.travel(NOW, tick=False)
def test_works_starting_keeps_public_works_with_a_geometry_starting_that_day():
    def works(start_at, **fields):
        item = WorksFactory(start_at=start_at, end_at=start_at + timedelta(days=3), **fields)
        return item

    tomorrow = works(START + timedelta(hours=8))
    at_midnight = works(START)
    the_day_after = works(END)
    today = works(START - timedelta(hours=1))
    cancelled = works(START + timedelta(hours=9), work_status=WorkStatus.CANCELLED)
    no_geometry = works(START + timedelta(hours=10), geometry=None)
    draft = works(START + timedelta(hours=11))
    for item in (tomorrow, at_midnight, the_day_after, today, cancelled, no_geometry):
        content_publish(item=item)
    found = set(works_starting(start=START, end=END, at=NOW).values_list("pk", flat=True))
    assert found == {tomorrow.pk, at_midnight.pk}
    assert draft.pk not in found
