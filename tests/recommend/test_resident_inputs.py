"""``resident_inputs``: a device's places, follows and history in one query, as the three
separate reads give them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.recommend.selectors import device_history, resident_inputs
from apps.residents.selectors import device_followed_ids, device_places
from tests.factories import AreaFactory, CategoryFactory, OrganizationFactory
from tests.recommend.feed_support import (
    add_place,
    consenting,
    follow_area,
    follow_category,
    interact,
    news,
    works,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


def test_one_query_gives_what_the_three_reads_give():
    resident = consenting()
    add_place(resident, radius_m=1000)
    add_place(resident, 2000, 1000, label="work", radius_m=500)
    follow_category(resident, CategoryFactory(slug="culture"))
    follow_area(resident, AreaFactory(slug="centre", name="Centre"))
    resident.device.organization_follows.create(organization=OrganizationFactory())
    items = [news(100 * k, 0) for k in range(3)] + [works(0, 100 * k) for k in range(3)]
    for item in items:
        interact(resident, item, "open")
    interact(resident, items[0], "dismiss")
    device = resident.device

    with CaptureQueriesContext(connection) as queries:
        inputs = resident_inputs(device_id=device.pk)

    assert len(queries) == 1
    assert [(p.label, p.name, p.lon, p.lat, p.radius_m) for p in inputs.places] == [
        (p.label, p.name, p.location.x, p.location.y, p.radius_m)
        for p in device_places(device=device)
    ]
    assert inputs.follows == device_followed_ids(device=device)
    assert inputs.history == device_history(device_id=device.pk)
    assert len(inputs.history) == 7 and inputs.history[0][2] == "dismiss"


def test_a_new_device_has_no_inputs():
    inputs = resident_inputs(device_id=consenting().device.pk)
    assert inputs.places == [] and inputs.history == []
    assert not inputs.follows.categories and not inputs.follows.areas
