"""The admin's recurrence picker: the rule it writes and the dates it previews, server-side."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from apps.events.recurrence import recurrence_check
from apps.events.recurrence_picker import PickerError, picker_choice, picker_rule
from tests.staff import staff_login

PARIS = ZoneInfo("Europe/Paris")
PREVIEW = "/admin/events/event/recurrence-preview/"


def rule(fields: dict[str, str], days: list[str] | None = None) -> str:
    return picker_rule(picker_choice(fields, days or []), tz=PARIS)


@pytest.mark.parametrize(
    ("fields", "days", "expected"),
    [
        ({"pick_freq": ""}, [], ""),
        (
            {"pick_freq": "WEEKLY", "pick_interval": "1", "pick_end": "count", "pick_count": "8"},
            ["SA"],
            "FREQ=WEEKLY;BYDAY=SA;COUNT=8",
        ),
        (
            {"pick_freq": "WEEKLY", "pick_interval": "2", "pick_end": "never"},
            ["SU", "TU"],  # written in the week's order whatever the ticking order
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU",
        ),
        (
            {"pick_freq": "DAILY", "pick_interval": "3", "pick_end": "count", "pick_count": "5"},
            [],
            "FREQ=DAILY;INTERVAL=3;COUNT=5",
        ),
        (
            {
                "pick_freq": "MONTHLY",
                "pick_interval": "1",
                "pick_monthly": "weekday",
                "pick_position": "-1",
                "pick_weekday": "FR",
                "pick_end": "until",
                "pick_until": "2027-06-30",
            },
            [],
            # The end of 30 June in Paris (summer time), in UTC.
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270630T215959Z",
        ),
        (
            {
                "pick_freq": "MONTHLY",
                "pick_interval": "1",
                "pick_monthly": "date",
                "pick_end": "until",
                "pick_until": "2027-01-15",
            },
            [],
            "FREQ=MONTHLY;UNTIL=20270115T225959Z",  # winter time
        ),
        (
            {"pick_freq": "YEARLY", "pick_interval": "1", "pick_end": "count", "pick_count": "3"},
            [],
            "FREQ=YEARLY;COUNT=3",
        ),
    ],
)
def test_the_picker_writes_the_rule(fields, days, expected):
    written = rule(fields, days)
    assert written == expected
    if written:
        recurrence_check(written)  # the API's validator takes it


@pytest.mark.parametrize(
    ("fields", "days", "field", "message"),
    [
        ({"pick_freq": "HOURLY"}, [], "pick_freq", "Fréquence inconnue."),
        ({"pick_freq": "DAILY", "pick_interval": "0"}, [], "pick_interval", "de 1 à 366"),
        ({"pick_freq": "DAILY", "pick_interval": "abc"}, [], "pick_interval", "nombre entier"),
        ({"pick_freq": "WEEKLY", "pick_interval": "1"}, [], "pick_byday", "au moins un jour"),
        ({"pick_freq": "WEEKLY", "pick_interval": "1"}, ["XX"], "pick_byday", "inconnu"),
        (
            {
                "pick_freq": "MONTHLY",
                "pick_interval": "1",
                "pick_monthly": "weekday",
                "pick_position": "5",
                "pick_weekday": "MO",
            },
            [],
            "pick_position",
            "dernier",
        ),
        (
            {"pick_freq": "DAILY", "pick_interval": "1", "pick_end": "count", "pick_count": "400"},
            [],
            "pick_count",
            "de 1 à 366",
        ),
        (
            {
                "pick_freq": "DAILY",
                "pick_interval": "1",
                "pick_end": "until",
                "pick_until": "demain",
            },
            [],
            "pick_until",
            "AAAA-MM-JJ",
        ),
    ],
)
def test_bad_picker_fields_are_named_in_french(fields, days, field, message):
    with pytest.raises(PickerError) as refused:
        picker_choice(fields, days)
    assert refused.value.field == field
    assert message in str(refused.value)


@pytest.fixture
def editor_client(client, city_editor):
    return staff_login(client, city_editor)


WEEKLY_SATURDAYS = {
    "pick_freq": "WEEKLY",
    "pick_interval": "1",
    "pick_byday": "SA",
    "pick_end": "count",
    "pick_count": "8",
    "start_0": "05/12/2026",  # a Saturday
    "start_1": "20:00:00",
}


@pytest.mark.django_db
def test_preview_writes_the_rule_and_lists_its_dates_in_french(editor_client):
    response = editor_client.get(PREVIEW, WEEKLY_SATURDAYS, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    body = response.json()
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=SA;COUNT=8"
    assert body["total"] == 8
    labels = [date["label"] for date in body["dates"]]
    assert labels[0] == "samedi 5 décembre 2026, 20:00"
    assert labels[-1] == "samedi 23 janvier 2027, 20:00"
    assert not any(date["extra"] for date in body["dates"])


@pytest.mark.django_db
def test_preview_merges_the_extra_dates(editor_client):
    query = {**WEEKLY_SATURDAYS, "extra": ["09/12/2026|18:30:00"]}
    body = editor_client.get(PREVIEW, query).json()
    assert body["total"] == 9
    extra = body["dates"][1]
    assert (extra["label"], extra["extra"], extra["skipped"], extra["first"]) == (
        "mercredi 9 décembre 2026, 18:30",
        True,
        False,
        False,
    )


@pytest.mark.django_db
def test_preview_of_a_typed_rule_uses_the_api_validator(editor_client):
    query = {
        "pick_mode": "rule",
        "rrule": "FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2",
        "start_0": "05/12/2026",
        "start_1": "20:00",
    }
    response = editor_client.get(PREVIEW, query)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Règle de récurrence impossible : aucun jour ne correspond (ex. 30 février).",
        "field": "rrule",
    }
    garbage = editor_client.get(PREVIEW, {**query, "rrule": "FREQ"})
    assert garbage.status_code == 400
    assert garbage.json()["error"].startswith("Règle de récurrence invalide")
    assert "unpack" not in garbage.json()["error"]


@pytest.mark.django_db
def test_preview_needs_a_start_and_bounded_input(editor_client):
    no_start = editor_client.get(PREVIEW, {**WEEKLY_SATURDAYS, "start_0": ""})
    assert no_start.status_code == 400
    assert no_start.json()["field"] == "start_at"
    too_many = editor_client.get(PREVIEW, {**WEEKLY_SATURDAYS, "pick_count": "100000"})
    assert too_many.status_code == 400
    assert too_many.json()["field"] == "pick_count"
    long_rule = editor_client.get(
        PREVIEW, {"pick_mode": "rule", "rrule": "FREQ=DAILY;" * 100, **WEEKLY_SATURDAYS}
    )
    assert long_rule.status_code == 400


@pytest.mark.django_db
def test_preview_is_for_signed_in_staff_only(client):
    response = client.get(PREVIEW, WEEKLY_SATURDAYS)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
