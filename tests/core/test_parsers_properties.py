"""Property tests of every parser of untrusted input: a value or a validation error, fast.

For any input — JSON bodies of any depth and number size, GeoJSON geometries, recurrence
rules, query parameters and search text — each parser returns a value or raises its 4xx-class
validation error, never another exception, and within a bounded time. Hypothesis generates the
inputs (hostile shapes included); ``make fuzz`` does the same over HTTP at a larger scale.
"""

from __future__ import annotations

import contextlib
import string
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django import forms
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from apps.core.api.fields import GEOMETRY_TYPES, parse_geojson_geometry
from apps.core.api.params import BBoxField, LatLonField, LenientDateTimeField
from apps.core.api.parsers import MAX_DEPTH, json_parse
from apps.core.search import SEARCH_CONFIGS, SearchTextField, search_expression
from apps.events.recurrence import RecurrenceError, recurrence_expand

#: Seconds any single parse may take: a bounded procedure takes milliseconds, the unbounded
#: ones took seconds to minutes; generous, for a loaded shared CI machine.
BUDGET_S = 2.0
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


class _Timed:
    def __enter__(self) -> _Timed:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        assert self.elapsed < BUDGET_S, f"took {self.elapsed:.2f} s"


# --- JSON bodies -----------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=2000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=2000).map(lambda n: f"1e{n}"),
    st.integers(min_value=1, max_value=2000).map(lambda n: f"-0.{'1' * n}e-{n}"),
)


def _number_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value).replace("inf", "1e999")


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """JSON text: a random value wrapped in up to 5,000 levels of arrays and objects."""
    leaf = draw(st.one_of(numbers.map(_number_text), st.just('"x\\u0000"'), st.just("null")))
    depth = draw(st.integers(min_value=0, max_value=5000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]))
    return opener * depth + leaf + closer * depth


@PROPERTY
@given(text=json_texts())
@example(text="[" * 100_000 + "]" * 100_000)
@example(text="9" * 400)
def test_json_parse_gives_a_value_or_a_parse_error(text):
    with _Timed():
        try:
            json_parse(text.encode())
        except ParseError:
            return


@PROPERTY
@given(raw=st.binary(max_size=2000))
def test_json_parse_of_any_bytes_gives_a_value_or_a_parse_error(raw):
    with _Timed():
        try:
            json_parse(raw)
        except ParseError:
            return


def test_json_parse_accepts_the_deepest_allowed_nesting_and_refuses_one_more():
    assert json_parse(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()) == _nest(MAX_DEPTH)
    with pytest.raises(ParseError):
        json_parse(("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode())


def _nest(depth: int) -> Any:
    value: Any = []
    for _level in range(depth - 1):
        value = [value]
    return value


# --- GeoJSON geometries ----------------------------------------------------------------------

coordinates = st.one_of(
    st.floats(min_value=-200, max_value=200),
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)
positions = st.one_of(st.lists(coordinates, max_size=4), coordinates)
geometry_types = st.sampled_from([*GEOMETRY_TYPES, "Feature", "Circle", ""])
nested_coordinates = st.recursive(
    positions, lambda inner: st.lists(inner, max_size=6), max_leaves=60
)


@st.composite
def geometries(draw: st.DrawFn) -> Any:
    kind = draw(geometry_types)
    value: dict[str, Any] = {"type": kind, "coordinates": draw(nested_coordinates)}
    if kind == "GeometryCollection" and draw(st.booleans()):
        value["geometries"] = [{"type": "Point", "coordinates": draw(positions)}]
    if draw(st.integers(0, 9)) == 0:
        value["crs"] = {"type": "name"}
    return draw(st.one_of(st.just(value), st.just([value]), st.just(kind)))


@PROPERTY
@given(value=geometries())
@example(value={"type": "Point", "coordinates": [10**400, 45]})
@example(value={"type": "Point", "coordinates": [4.8, -(10**400)]})
def test_parse_geojson_geometry_gives_a_geometry_or_a_validation_error(value):
    with _Timed():
        try:
            geometry = parse_geojson_geometry(value)
        except serializers.ValidationError:
            return
    assert geometry.valid and geometry.srid == 4326


# --- recurrence rules ------------------------------------------------------------------------

RULE_PARTS = {
    "FREQ": st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "SECONDLY", "HOURLY", "X"]),
    "INTERVAL": st.integers(-5, 10**6).map(str),
    "COUNT": st.integers(-5, 10**6).map(str),
    "UNTIL": st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y%m%dT%H%M%SZ")
    ),
    "BYMONTH": st.lists(st.integers(-13, 13), min_size=1, max_size=4),
    "BYMONTHDAY": st.lists(st.integers(-32, 32), min_size=1, max_size=4),
    "BYYEARDAY": st.lists(st.integers(-367, 367), min_size=1, max_size=4),
    "BYWEEKNO": st.lists(st.integers(-54, 54), min_size=1, max_size=3),
    "BYSETPOS": st.lists(st.integers(-367, 367), min_size=1, max_size=3),
    "BYHOUR": st.lists(st.integers(-1, 25), min_size=1, max_size=3),
    "BYMINUTE": st.lists(st.integers(-1, 61), min_size=1, max_size=3),
    "BYSECOND": st.lists(st.integers(0, 59), min_size=1, max_size=2),
    "BYDAY": st.lists(
        st.tuples(
            st.sampled_from(["", "1", "-1", "5", "53", "+2", "0"]),
            st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU", "XX"]),
        ).map("".join),
        min_size=1,
        max_size=4,
    ),
    "WKST": st.sampled_from(["MO", "SU", "XX"]),
}


@st.composite
def rules(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(RULE_PARTS)), max_size=6, unique=True))
    if draw(st.integers(0, 9)):
        names = ["FREQ", *(name for name in names if name != "FREQ")]
    parts = []
    for name in names:
        value = draw(RULE_PARTS[name])
        parts.append(f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}")
    return ";".join(parts)


@PROPERTY
@given(rule=st.one_of(rules(), st.text(max_size=80)), days=st.integers(-3000, 3000))
@example(rule="FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4;BYHOUR=1", days=0)
@example(rule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", days=0)
@example(rule="FREQ=DAILY;INTERVAL=7;BYDAY=MO", days=0)
@example(rule="FREQ=YEARLY;BYWEEKNO=53;BYDAY=1MO", days=0)
def test_recurrence_expand_gives_dates_or_a_refusal(rule, days):
    start = datetime(2030, 1, 1, 18, 0, tzinfo=UTC) + timedelta(days=days)
    with _Timed():
        try:
            starts = recurrence_expand(rule=rule, dtstart=start)
        except RecurrenceError as refused:
            assert "Error" not in str(refused)
            return
    assert 1 <= len(starts) <= 366
    assert starts == sorted(starts) and starts[0] >= start


# --- query parameters and search text --------------------------------------------------------

hostile_text = st.text(
    alphabet=st.sampled_from([*list(string.printable), "-", "-", '"', "!", "\x00", "é", "\u202e"]),
    max_size=220,
)


@PROPERTY
@given(value=st.one_of(hostile_text, st.from_regex(r"-?\d{1,400}(\.\d{0,30})?,-?\d{1,400}")))
@example(value="9" * 400 + ",4.8")
@example(value="1e400,1e400")
def test_coordinate_parameters_give_a_value_or_a_validation_error(value):
    for field in (LatLonField(required=False), BBoxField(required=False)):
        with _Timed(), contextlib.suppress(forms.ValidationError):
            field.clean(value)
    bbox = ",".join([value] * 4)
    with contextlib.suppress(forms.ValidationError):
        BBoxField(required=False).clean(bbox)


@PROPERTY
@given(value=hostile_text)
def test_date_parameters_give_a_value_or_a_validation_error(value):
    with _Timed(), contextlib.suppress(forms.ValidationError):
        LenientDateTimeField(required=False).clean(value)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=hostile_text)
@example(text="-" * 200)
@example(text='-"' * 100)
@example(text="or " * 66)
def test_search_text_is_refused_or_read_by_postgresql_without_error(text):
    try:
        cleaned = SearchTextField(required=False).clean(text)
    except forms.ValidationError:
        return
    if not cleaned:
        return
    expression = search_expression(cleaned)
    with connection.cursor() as cursor, _Timed():
        for config in SEARCH_CONFIGS.values():
            cursor.execute("SELECT websearch_to_tsquery(%s::regconfig, %s)", [config, expression])
