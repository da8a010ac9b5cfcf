"""JSON typed in the admin goes through the API's bounded parser: a form error, never a 500."""

from __future__ import annotations

import pytest

from apps.works.models import Works
from tests.admin.conftest import admin_url
from tests.admin.test_forms import LINE, _add_data, _errors

pytestmark = pytest.mark.django_db

HOSTILE = {
    "deeply nested": "[" * 100_000 + "]" * 100_000,
    "5,000-digit integer": "9" * 5000,
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_works_admin_json_field_refuses_hostile_json_as_a_form_error(editor_client, mobility, raw):
    data = _add_data(editor_client, "works", mobility, geometry=LINE, lanes=raw)

    response = editor_client.post(admin_url("works", "add"), data)

    assert "JSON" in _errors(response)
    assert not Works.objects.exists()


HOSTILE_ROWS = {
    "5,000-digit value": (
        {
            "restrictions-0-type": "reduced-height",
            "restrictions-0-value": "9" * 5000,
            "restrictions-0-unit": "centimeters",
        },
        "Restriction 1, valeur : un nombre",
    ),
    "not a number": (
        {
            "restrictions-0-type": "reduced-height",
            "restrictions-0-value": "nan",
            "restrictions-0-unit": "centimeters",
        },
        "Restriction 1, valeur : un nombre",
    ),
    "more rows than types": (
        {f"restrictions-{i}-type": "no-trucks" for i in range(40)},
        "Au plus 15 restrictions",
    ),
}


@pytest.mark.parametrize("fields,message", HOSTILE_ROWS.values(), ids=HOSTILE_ROWS.keys())
def test_works_admin_restriction_rows_refuse_hostile_input(
    editor_client, mobility, fields, message
):
    data = _add_data(editor_client, "works", mobility, geometry=LINE, **fields)

    response = editor_client.post(admin_url("works", "add"), data)

    assert message in _errors(response)
    assert not Works.objects.exists()
