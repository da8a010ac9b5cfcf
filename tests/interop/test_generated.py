"""Hypothesis-generated roadworks: the three feeds validate against the shared schemas."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient

from apps.interop.cifs.parse import records
from apps.interop.geometry import lines_of
from apps.works.models import Works
from apps.works.services import works_cancel
from tests.factories import CategoryFactory, OrganizationFactory
from tests.interop.strategies import works_fields
from tests.interop.support import assert_wzdx_valid, assert_xml_valid, published_works


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fields=works_fields())
def test_generated_works_feeds_validate(fields):
    Works.objects.all().delete()
    owner = {"organization": OrganizationFactory(), "category": CategoryFactory()}
    periods, cancelled = fields.pop("periods"), fields.pop("cancelled")
    works = published_works(periods=periods, title_fr="Travaux", **owner, **fields)
    if cancelled:
        works_cancel(works=works)
    client = APIClient()

    wzdx = client.get("/api/v1/feeds/works.wzdx.geojson").json()
    cifs = client.get("/api/v1/feeds/works.cifs.xml").content
    datex2 = client.get("/api/v1/feeds/works.datex2.xml").content

    assert_wzdx_valid(wzdx)
    assert_xml_valid("cifs", cifs)
    assert_xml_valid("datex2", datex2)
    assert wzdx["features"], "every public works appears in the WZDx feed"
    _assert_cifs_reads_back(works, cifs)


def _assert_cifs_reads_back(works, body: bytes) -> None:
    """Each CIFS incident parses back to its line (latitude first) and its period."""
    periods = list(works.periods.all())
    lines = lines_of(works.geometry)
    for record in records(body):
        base, _, index = record.source_id.partition("/")
        part = int(base.partition("#")[2] or 0)
        assert lines_of(record.geometry)[0].equals_exact(lines[part], tolerance=1e-5)
        period = periods[int(index or 0)] if periods else None
        if period is None or (period.weekdays == "1234567" and not period.daily_start_time):
            continue
        (back,) = record.periods
        assert (back.start_date, back.end_date, back.weekdays) == (
            period.start_date,
            period.end_date,
            period.weekdays,
        )
        assert (back.daily_start_time, back.daily_end_time) == (
            period.daily_start_time,
            period.daily_end_time,
        )
