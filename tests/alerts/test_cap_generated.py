"""Hypothesis: whatever an editor writes and draws, the CAP messages we publish (alert, update,
cancel; every geometry type; French alone or with English; drills) validate against cap12.xsd
and the specification's rules."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.alerts.cap.schema import cap_errors
from apps.alerts.models import CapMessage
from apps.core.geo import WGS84
from apps.core.models import Urgency
from apps.core.services import content_archive, content_publish, content_save
from tests.alerts.support import alert_item, cap, commune, texts
from tests.factories import EventFactory, NewsFactory, WorksFactory

pytestmark = pytest.mark.django_db

lon = st.floats(4.80, 4.88, allow_nan=False)
lat = st.floats(45.73, 45.79, allow_nan=False)
point = st.builds(lambda x, y: Point(x, y, srid=WGS84), lon, lat)


def _square(x: float, y: float, size: float) -> Polygon:
    return Polygon(((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)), srid=WGS84)


square = st.builds(_square, lon, lat, st.floats(0.0005, 0.01))
line = st.builds(
    lambda start, dx, dy: LineString(start, (start[0] + dx, start[1] + dy), srid=WGS84),
    st.tuples(lon, lat),
    st.floats(0.0005, 0.01),
    st.floats(-0.01, 0.01),
)
#: A many-sided polygon (simplified for CAP) and a polygon with a hole (CAP keeps the outer ring).
many_sided = st.builds(
    lambda x, y, n: Point(x, y, srid=WGS84).buffer(0.005, quadsegs=n),
    lon,
    lat,
    st.integers(8, 120),
)
holed = st.builds(
    lambda x, y: Polygon(
        ((x, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01), (x, y)),
        (
            (x + 0.003, y + 0.003),
            (x + 0.006, y + 0.003),
            (x + 0.006, y + 0.006),
            (x + 0.003, y + 0.003),
        ),
        srid=WGS84,
    ),
    lon,
    lat,
)
geometry = st.one_of(
    st.none(),
    point,
    line,
    square,
    many_sided,
    holed,
    st.lists(point, min_size=1, max_size=4).map(lambda ps: MultiPoint(*ps, srid=WGS84)),
    st.lists(line, min_size=1, max_size=3).map(lambda ls: MultiLineString(*ls, srid=WGS84)),
    st.builds(
        lambda x, y: MultiPolygon(_square(x, y, 0.002), _square(x + 0.01, y, 0.002), srid=WGS84),
        lon,
        lat,
    ),
    st.builds(lambda p, ln: GeometryCollection(p, ln, srid=WGS84), point, line),
)
# Any text an editor may paste: every plane, controls, markup characters, CAP's separators
# (not NUL, which PostgreSQL text refuses before any CAP is written).
words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=0,
    max_size=300,
)
title = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=200,
)


@override_settings(CAP_INCLUDE_IMPORTANT=True)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=geometry,
    second=geometry,
    factory=st.sampled_from([NewsFactory, WorksFactory, EventFactory]),
    title_fr=title,
    title_en=st.one_of(st.just(""), title),
    body_fr=words,
    body_en=words,
    urgency=st.sampled_from([Urgency.ALERT, Urgency.IMPORTANT]),
    exercise=st.booleans(),
    cancel=st.booleans(),
)
def test_cap_generated_every_message_validates(
    first, second, factory, title_fr, title_en, body_fr, body_en, urgency, exercise, cancel
):
    commune(slug=f"c-{CapMessage.objects.count()}")
    item = alert_item(
        factory=factory,
        geometry=first,
        title_fr=title_fr,
        title_en=title_en,
        body_fr=body_fr,
        body_en=body_en,
        urgency=urgency,
        exercise=exercise,
    )
    content_publish(item=item)
    item.geometry = second
    content_save(item=item)  # an Update when the geometry changed
    if cancel:
        content_archive(item=item)
    sent = list(CapMessage.objects.filter(item_type=item.type_code, item_id=item.pk))
    assert sent, "an alert always makes a CAP message"
    assert sent[0].status == ("Exercise" if exercise else "Actual")
    for message in sent:
        assert cap_errors(message.document.encode()) == [], message.document
        root = cap(message.document)
        languages = texts(root, "cap:info/cap:language")
        assert languages == (["fr-FR", "en-GB"] if title_en.strip() else ["fr-FR"])
        if exercise:
            for headline in texts(root, "cap:info/cap:headline"):
                assert "EXERCICE" in headline
    expected = {"Alert"} | ({"Update"} if first != second else set())
    expected |= {"Cancel"} if cancel else set()
    assert {m.msg_type for m in sent} == expected
