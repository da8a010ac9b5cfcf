"""Issue 16, point 4: the admin's French wording, and the links that led nowhere.

"Ajout de actualité", "Date supplémentaire supplémentaire", "L'objet travaux…" came from
Django's French catalogue; ours re-words those msgids (apps/core/admin/wording.py). An
event's "Programmé" clashed with the publication status; "Gratuit" was ticked on a new event;
"Voir le site" led to a 404; the reach panel said "recevraient" after publication and its
statistics were not a link.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from apps.core.models import Status
from apps.events.models import EventStatus
from tests.admin.conftest import admin_url
from tests.admin.formdata import form_data
from tests.api_support import published_works
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db


def _title(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


@pytest.mark.parametrize(
    ("type_code", "title"),
    [("news", "Ajout : actualité"), ("works", "Ajout : travaux"), ("events", "Ajout : événement")],
)
def test_add_pages_read_right_in_french(editor_client, type_code, title):
    html = editor_client.get(admin_url(type_code, "add")).content.decode()
    assert _title(html) == title
    assert "Ajout de " not in html


def test_change_page_and_changelist_titles(editor_client, city_items):
    change = editor_client.get(admin_url("works", "change", city_items["works"].pk))
    assert _title(change.content.decode()) == "Modification : travaux"
    changelist = editor_client.get(admin_url("works", "changelist")).content.decode()
    assert "Choisir pour modifier : travaux" in changelist
    assert "Ajouter : travaux" in changelist  # the button, "Ajouter travaux" before
    assert "l\u2019objet" not in changelist and "l'objet" not in changelist.lower()


def test_extra_dates_inline_is_not_supplementary_twice(editor_client):
    html = editor_client.get(admin_url("events", "add")).content.decode()
    assert "supplémentaire supplémentaire" not in html
    # The inline's button text travels as JSON in an attribute (data-inline-formset).
    assert '"addText": "Ajouter : Date suppl\\u00e9mentaire"' in html.replace("&quot;", '"')


def test_the_saved_message_has_no_objet(editor_client, city_items):
    works = city_items["works"]
    data = form_data(editor_client.get(admin_url("works", "change", works.pk)), "works_form")
    response = editor_client.post(admin_url("works", "change", works.pk), data)
    assert response.status_code == 302
    texts = [re.sub(r"<[^>]+>", "", str(m)) for m in get_messages(response.wsgi_request)]
    assert texts == [f"Modification enregistrée : travaux « {works} »."]


def test_english_admin_keeps_django_wording(editor_client):
    html = editor_client.get(admin_url("news", "add"), HTTP_ACCEPT_LANGUAGE="en").content
    # The admin follows the browser's language: our English catalogue, Django's own wording.
    assert _title(html.decode()) == "Add news"


def test_event_status_is_not_worded_like_a_publication_status():
    with translation.override("fr"):
        assert EventStatus.SCHEDULED.label == "Prévu"
        assert EventStatus.SCHEDULED.label != Status.SCHEDULED.label


def test_free_is_not_ticked_on_a_new_event(editor_client, city_items):
    add = form_data(editor_client.get(admin_url("events", "add")), "event_form")
    assert "is_free" not in add  # an unticked checkbox is not submitted
    event = city_items["events"]
    event.is_free = True
    event.save(update_fields=["is_free"])
    change = form_data(editor_client.get(admin_url("events", "change", event.pk)), "event_form")
    assert change["is_free"] == "on"  # an existing event keeps what was said


def test_view_site_leads_to_the_public_site_served_at_the_root(editor_client, client):
    """ "Voir le site" is shown only when a page is served at ``/``: the public site's home
    (apps/site) is, so the link is there and does not lead to a 404."""
    assert client.get("/").status_code == 200
    html = editor_client.get(reverse("admin:index")).content.decode()
    assert re.search(r'<a href="/">Voir le site</a>', html), html[:2000]


def test_reach_panel_after_publication_says_who_is_concerned(editor_client, city, mobility):
    works = published_works(organization=city, category=mobility, notify=True)
    for _ in range(6):
        phone(follows=[mobility])
    html = editor_client.get(admin_url("works", "change", works.pk)).content.decode()
    panel = re.search(r'<div class="notification-reach".*?\n</div>', html, re.S).group(0)
    assert works.status == Status.PUBLISHED
    assert "recevraient" not in panel
    assert "sont concernés aujourd'hui par ce contenu publié" in panel
    # Each notification of the item: "voir les statistiques" is the link.
    lines = re.findall(r"<li>.*?</li>", panel.split("reach-notifications", 1)[-1], re.S)
    assert lines, panel
    for line in lines:
        assert re.search(r'<a href="[^"]+">[^<]*voir les statistiques</a>', line), line
