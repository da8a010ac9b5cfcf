"""Admin forms: saving goes through the services, and bad input is a form error, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django import forms as django_forms
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.admin.saving import _attach
from apps.core.models import Status
from apps.core.services import content_publish
from apps.events.models import Event, EventOccurrence
from apps.news.models import News
from apps.works.models import Works, WorksPeriod, WorkStatus
from tests.admin.conftest import ADMIN_NAMES, admin_url
from tests.admin.formdata import form_data
from tests.api_support import published_event
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    VenueFactory,
    WorksFactory,
    square,
)

pytestmark = pytest.mark.django_db

LINE = json.dumps(
    {
        "type": "LineString",
        "coordinates": [[CENTRE_LON, CENTRE_LAT], [CENTRE_LON + 0.003, CENTRE_LAT]],
    }
)
BOW_TIE = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [
            [[4.83, 45.76], [4.84, 45.77], [4.84, 45.76], [4.83, 45.77], [4.83, 45.76]]
        ],
    }
)
FAR_AWAY = json.dumps({"type": "Point", "coordinates": [200.0, 45.0]})


def _split(moment):
    local = timezone.localtime(moment)
    return local.strftime("%d/%m/%Y"), local.strftime("%H:%M:%S")


def _form_id(type_code: str) -> str:
    return f"{ADMIN_NAMES[type_code][1]}_form"


def _add_data(client, type_code: str, category, **fields):
    """The add form of ``type_code`` as a browser would post it, filled with ``fields``."""
    data = form_data(client.get(admin_url(type_code, "add")), _form_id(type_code))
    data.update(title_fr=f"Nouveau {type_code}", summary_fr="Résumé", category=category.pk)
    if type_code in ("works", "events"):
        start = timezone.now() + timedelta(days=1)
        data["start_at_0"], data["start_at_1"] = _split(start)
        data["end_at_0"], data["end_at_1"] = _split(start + timedelta(hours=3))
    data.update(fields)
    return data


def _change_data(client, type_code: str, item, **fields):
    data = form_data(client.get(admin_url(type_code, "change", item.pk)), _form_id(type_code))
    data.update(fields)
    return data


def _errors(response) -> str:
    """Every error message shown on the re-displayed form (fields, non-field, inlines)."""
    assert response.status_code == 200, "a refused form is shown again, not redirected"
    form = response.context["adminform"].form
    messages = [str(m) for errors in form.errors.values() for m in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += [
            str(m) for errors in inline.formset.errors for ms in errors.values() for m in ms
        ]
        messages += [str(m) for m in inline.formset.non_form_errors()]
    return " | ".join(messages)


# --- saving through the services -----------------------------------------------------------


def test_works_add_goes_through_works_save(editor_client, city_editor, mobility, centre):
    yesterday = timezone.now() - timedelta(days=1)
    data = _add_data(
        editor_client,
        "works",
        mobility,
        geometry=LINE,
        road_names="Rue de la République\n\nQuai Saint-Antoine\n",
        **{
            # Restriction rows: a measured one, a blank row (ignored), one without value.
            "restrictions-0-type": "reduced-height",
            "restrictions-0-value": "3,5e2",
            "restrictions-0-unit": "centimeters",
            "restrictions-2-type": "no-trucks",
            "periods-TOTAL_FORMS": "1",
            "periods-0-start_date": timezone.localdate().isoformat(),
            "periods-0-end_date": (timezone.localdate() + timedelta(days=5)).isoformat(),
            "periods-0-weekdays": ["1", "2", "3", "4", "5"],
            "periods-0-daily_start_time": "21:00",
            "periods-0-daily_end_time": "05:00",
        },
    )
    data["start_at_0"], data["start_at_1"] = _split(yesterday)

    response = editor_client.post(admin_url("works", "add"), data)

    assert response.status_code == 302, _errors(response)
    works = Works.objects.get(title_fr="Nouveau works")
    assert works.status == Status.DRAFT
    assert works.created_by == city_editor
    assert works.work_status == WorkStatus.ACTIVE  # computed by works_save from the dates
    assert list(works.areas.all()) == [centre]  # computed by content_save from the line
    assert works.road_names == ["Rue de la République", "Quai Saint-Antoine"]
    assert works.restrictions == [
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "no-trucks"},
    ]
    (period,) = works.periods.all()
    assert (period.weekdays, period.is_overnight) == ("12345", True)
    assert LogEntry.objects.filter(object_id=str(works.pk), action_flag=ADDITION).exists()


def test_works_change_replaces_periods(editor_client, city, mobility):
    works = WorksFactory(organization=city, category=mobility)
    today = timezone.localdate()
    kept = WorksPeriod.objects.create(works=works, start_date=today, end_date=today)
    dropped = WorksPeriod.objects.create(works=works, start_date=today, end_date=today)
    data = _change_data(editor_client, "works", works)
    forms = {data[f"periods-{i}-id"]: i for i in range(2)}
    data[f"periods-{forms[str(kept.pk)]}-weekdays"] = ["7", "6"]  # two checkboxes
    data[f"periods-{forms[str(dropped.pk)]}-DELETE"] = "on"

    response = editor_client.post(admin_url("works", "change", works.pk), data)

    assert response.status_code == 302, _errors(response)
    assert list(works.periods.values_list("pk", "weekdays")) == [(kept.pk, "67")]


def test_event_add_uses_the_venue_and_keeps_extra_dates(editor_client, mobility):
    venue = VenueFactory(name="Salle Rameau")
    extra_start = timezone.now() + timedelta(days=9)
    data = _add_data(
        editor_client,
        "events",
        mobility,
        venue=venue.pk,
        geometry="",
        rrule="FREQ=WEEKLY;COUNT=3",
        accessibility=["motor", "hearing"],
        **{
            "occurrences-TOTAL_FORMS": "1",
            "occurrences-0-start_at_0": _split(extra_start)[0],
            "occurrences-0-start_at_1": _split(extra_start)[1],
            "occurrences-0-end_at_0": _split(extra_start + timedelta(hours=1))[0],
            "occurrences-0-end_at_1": _split(extra_start + timedelta(hours=1))[1],
        },
    )

    response = editor_client.post(admin_url("events", "add"), data)

    assert response.status_code == 302, _errors(response)
    event = Event.objects.get(title_fr="Nouveau events")
    assert event.geometry == venue.location  # event_save takes the venue's point
    assert event.accessibility == ["motor", "hearing"]
    origins = list(event.occurrences.values_list("origin", flat=True))
    assert sorted(origins) == ["extra", "main", "rule", "rule"]
    # The change page edits only the hand-added date; the service rebuilds the others.
    page = editor_client.get(admin_url("events", "change", event.pk))
    assert form_data(page, "event_form")["occurrences-INITIAL_FORMS"] == "1"


def test_news_add_saves_links(editor_client, mobility):
    data = _add_data(
        editor_client,
        "news",
        mobility,
        **{
            "links-TOTAL_FORMS": "1",
            "links-0-title_fr": "Le formulaire",
            "links-0-url": "https://ville.example/formulaire",
            "links-0-position": "0",
        },
    )

    response = editor_client.post(admin_url("news", "add"), data)

    assert response.status_code == 302, _errors(response)
    news = News.objects.get(title_fr="Nouveau news")
    assert list(news.links.values_list("title_fr", flat=True)) == ["Le formulaire"]


def test_status_cannot_be_posted(editor_client, city_items):
    news = city_items["news"]
    data = _change_data(editor_client, "news", news, status="published", title_fr="Renommée")

    response = editor_client.post(admin_url("news", "change", news.pk), data)

    assert response.status_code == 302
    news.refresh_from_db()
    assert (news.title_fr, news.status) == ("Renommée", Status.DRAFT)


def test_superuser_redraws_an_area_and_content_follows(superuser_client, city, mobility):

    far = AreaFactory(slug="loin", name="Loin", geometry=square(5.5, 46.5, 0.01))
    works = WorksFactory(organization=city, category=mobility)
    data = form_data(superuser_client.get(f"/admin/core/area/{far.pk}/change/"), "area_form")
    data["geometry"] = square(CENTRE_LON, CENTRE_LAT, 0.02).geojson

    response = superuser_client.post(f"/admin/core/area/{far.pk}/change/", data)

    assert response.status_code == 302
    assert list(works.areas.all()) == [far]


# --- bad input is a form error -------------------------------------------------------------

WORKS_BAD_INPUT = {
    "self-intersecting polygon": ({"geometry": BOW_TIE}, "n'est pas valide"),
    "coordinates out of range": ({"geometry": FAR_AWAY}, "hors limites"),
    "geometry that is not GeoJSON": ({"geometry": "pas une géométrie"}, "géométrique non valide"),
    "end before start": ({"end_at_0": "01/01/2020"}, "La fin doit suivre le début."),
    "restriction value not a number": (
        {
            "restrictions-0-type": "reduced-height",
            "restrictions-0-value": "haut",
            "restrictions-0-unit": "centimeters",
        },
        "Restriction 1, valeur : un nombre",
    ),
    "unknown restriction": (
        {"restrictions-0-type": "no-trucks", "restrictions-1-type": "teleport"},
        "Restriction 2, type : Type de restriction inconnu : teleport",
    ),
    "restriction unit of another kind": (
        {
            "restrictions-0-type": "reduced-height",
            "restrictions-0-value": "3500",
            "restrictions-0-unit": "kilograms",
        },
        "Restriction 1, unité : Unité kilograms impossible pour reduced-height.",
    ),
    "restriction value without unit": (
        {"restrictions-0-type": "reduced-weight", "restrictions-0-value": "3500"},
        "Restriction 1, unité : Une valeur de restriction va avec son unité.",
    ),
    "period ending before it starts": (
        {
            "periods-TOTAL_FORMS": "1",
            "periods-0-start_date": "2030-06-10",
            "periods-0-end_date": "2030-06-01",
            "periods-0-weekdays": list("1234567"),
        },
        "La fin de période doit suivre son début.",
    ),
    "period without a weekday": (
        {
            "periods-TOTAL_FORMS": "1",
            "periods-0-start_date": "2030-06-01",
            "periods-0-end_date": "2030-06-10",
        },
        "Jours : cochez au moins un jour de la semaine.",
    ),
    "period with a day that is not one": (
        {
            "periods-TOTAL_FORMS": "1",
            "periods-0-start_date": "2030-06-01",
            "periods-0-end_date": "2030-06-10",
            "periods-0-weekdays": ["1", "8"],
        },
        "8",
    ),
}


@pytest.mark.parametrize("fields,message", WORKS_BAD_INPUT.values(), ids=WORKS_BAD_INPUT.keys())
def test_works_bad_input_is_a_form_error(editor_client, mobility, fields, message):
    data = _add_data(editor_client, "works", mobility, **{"geometry": LINE, **fields})

    response = editor_client.post(admin_url("works", "add"), data)

    assert message in _errors(response)
    assert not Works.objects.exists()


EVENT_BAD_INPUT = {
    "unknown RRULE": ({"rrule": "FREQ=SOMETIMES"}, "Règle de récurrence invalide"),
    "RRULE with the prefix": ({"rrule": "RRULE:FREQ=DAILY"}, "Indiquez seulement la règle"),
    "RRULE UNTIL without time zone": (
        {"rrule": "FREQ=DAILY;UNTIL=20300101T000000"},
        "UNTIL doit être en UTC",
    ),
    # Syntactically fine: only the service finds that it yields no date.
    "RRULE yielding no date": (
        {"rrule": "FREQ=DAILY;UNTIL=20000101T000000Z"},
        "ne produit aucune date",
    ),
    "end before start": ({"end_at_0": "01/01/2020"}, "La fin doit suivre le début."),
    "age range upside down": ({"age_min": "12", "age_max": "6"}, "L'âge maximum"),
    "free event with a price": ({"is_free": "on", "price_min": "5"}, "gratuit n'a pas de prix"),
    "extra date ending before it starts": (
        {
            "occurrences-TOTAL_FORMS": "1",
            "occurrences-0-start_at_0": "10/06/2030",
            "occurrences-0-start_at_1": "20:00:00",
            "occurrences-0-end_at_0": "10/06/2030",
            "occurrences-0-end_at_1": "18:00:00",
        },
        "La fin doit suivre le début.",
    ),
}


@pytest.mark.parametrize("fields,message", EVENT_BAD_INPUT.values(), ids=EVENT_BAD_INPUT.keys())
def test_event_bad_input_is_a_form_error(editor_client, mobility, fields, message):
    data = _add_data(editor_client, "events", mobility, **{"geometry": LINE, **fields})

    response = editor_client.post(admin_url("events", "add"), data)

    assert message in _errors(response)
    assert not Event.objects.exists()
    assert not EventOccurrence.objects.exists()


def test_service_refusal_on_change_keeps_the_item_untouched(editor_client, city_items):
    event = city_items["events"]
    data = _change_data(
        editor_client,
        "events",
        event,
        title_fr="Titre modifié",
        rrule="FREQ=DAILY;UNTIL=20000101T000000Z",
    )

    response = editor_client.post(admin_url("events", "change", event.pk), data)

    assert "ne produit aucune date" in _errors(response)
    # The form is shown again with what the editor typed.
    assert response.context["adminform"].form["title_fr"].value() == "Titre modifié"
    event.refresh_from_db()
    assert (event.title_fr, event.rrule) == ("Ville events", "")


def test_expiry_before_publication_is_a_form_error(editor_client, city_items):
    news = city_items["news"]
    content_publish(item=news)
    yesterday = timezone.now() - timedelta(days=1)
    data = _change_data(editor_client, "news", news)
    data["expires_at_0"], data["expires_at_1"] = _split(yesterday)

    response = editor_client.post(admin_url("news", "change", news.pk), data)

    assert "La date d'expiration doit suivre la publication." in _errors(response)
    news.refresh_from_db()
    assert news.expires_at is None


def test_service_errors_land_on_the_fields_the_form_shows():
    class WorksTitleForm(django_forms.ModelForm):
        class Meta:
            model = Works
            fields = ["title_fr", "start_at"]

    form = WorksTitleForm(data={})
    form.is_valid()
    _attach(
        form,
        ValidationError(
            {"title": ["Trop long."], "end_at": ["Avant le début."], "__all__": ["Refusé."]}
        ),
    )

    assert "Trop long." in form.errors["title_fr"]
    assert "Fin : Avant le début." in form.non_field_errors()
    assert "Refusé." in form.non_field_errors()


def test_event_change_of_venue_moves_the_event_as_the_api_does(editor_client, city, mobility):
    """The same rule on both paths (``event_apply``): a new venue without a drawn geometry
    places the event at the venue; a geometry given with it is kept."""
    first = VenueFactory(name="Salle Rameau")
    second = VenueFactory(name="Kiosque", location=Point(CENTRE_LON + 0.01, CENTRE_LAT, srid=4326))
    event = published_event(organization=city, category=mobility, venue=first)
    assert event.geometry == first.location

    response = editor_client.post(
        admin_url("events", "change", event.pk),
        _change_data(editor_client, "events", event, venue=second.pk),
    )

    assert response.status_code == 302, _errors(response)
    assert Event.objects.get(pk=event.pk).geometry == second.location
