"""The "Historique" page of audited admins and the CADA export view: the staff user recorded
for an admin edit, diffs shown, organization scope, read-only, bounded queries and exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.news.models import News
from tests.admin.conftest import admin_url
from tests.admin.formdata import form_data
from tests.factories import NewsFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db
EXPORT = "admin:core_audit_export"


def _edit_title(client, item, title: str) -> None:
    data = form_data(client.get(admin_url("news", "change", item.pk)), "news_form")
    data["title_fr"] = title
    response = client.post(admin_url("news", "change", item.pk), data)
    assert response.status_code == 302, response.content[:2000]


def test_admin_edit_is_recorded_with_the_staff_user(editor_client, city_editor, city_items):
    news = city_items["news"]

    _edit_title(editor_client, news, "Titre corrigé")

    last = News.history.filter(id=news.pk).latest()
    assert last.history_type == "~"
    assert last.history_user == city_editor
    assert last.history_actor == city_editor.get_username()
    assert last.title_fr == "Titre corrigé"


def test_history_page_shows_who_and_the_diff(editor_client, city_editor, city_items):
    news = city_items["news"]
    _edit_title(editor_client, news, "Titre corrigé")

    response = editor_client.get(admin_url("news", "history", news.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Titre corrigé" in page and "Ville news" in page  # new and old value
    assert city_editor.get_username() in page
    assert "modification" in page and "création" in page


def test_history_of_another_organizations_item_is_404(editor_client, metropole_items):
    news = metropole_items["news"]

    assert editor_client.get(admin_url("news", "history", news.pk)).status_code == 404
    record = News.history.filter(id=news.pk).latest()
    url = reverse("admin:news_news_simple_history", args=[news.pk, record.history_id])
    assert editor_client.get(url).status_code == 404


def test_history_of_a_deleted_item_stays_visible_to_its_organization(
    editor_client, client, metropole_editor, city_items
):
    news = city_items["news"]
    pk = news.pk
    response = editor_client.post(admin_url("news", "delete", pk), {"post": "yes"})
    assert response.status_code == 302
    assert not News.objects.filter(pk=pk).exists()

    page = editor_client.get(admin_url("news", "history", pk))
    assert page.status_code == 200 and "suppression" in page.content.decode()
    client.logout()
    other = staff_login(client, metropole_editor)
    assert other.get(admin_url("news", "history", pk)).status_code == 404


def test_history_record_page_is_read_only(editor_client, city_items):
    news = city_items["news"]
    _edit_title(editor_client, news, "Titre corrigé")
    first = News.history.filter(id=news.pk).earliest()
    url = reverse("admin:news_news_simple_history", args=[news.pk, first.history_id])

    assert editor_client.get(url).status_code == 200
    assert editor_client.post(url, {"title_fr": "Retour"}).status_code == 403
    news.refresh_from_db()
    assert news.title_fr == "Titre corrigé"


@pytest.mark.parametrize("edits", [1, 8])
def test_history_page_queries_do_not_grow_with_records(
    edits, editor_client, city, mobility, django_assert_num_queries
):
    news = NewsFactory(organization=city, category=mobility)
    for n in range(edits):
        news.title_fr = f"Version {n}"
        news.save()

    with django_assert_num_queries(12):
        response = editor_client.get(admin_url("news", "history", news.pk))

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == edits + 1


def _export(client, **params):
    day = timezone.localdate().isoformat()
    return client.get(reverse(EXPORT), {"since": day, "until": day, **params})


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_export_csv_has_french_headers_and_the_changes(superuser_client, superuser, city_items):
    news = city_items["news"]
    _edit_title(superuser_client, news, "Titre corrigé")

    response = _export(superuser_client, item_type="news", item_id=news.pk)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert list(rows[0]) == [
        "Date",
        "Auteur",
        "Rôle",
        "Action",
        "Objet",
        "Numéro",
        "Intitulé",
        "Organisation",
        "Champ",
        "Ancienne valeur",
        "Nouvelle valeur",
        "Motif",
    ]
    change = next(r for r in rows if r["Action"] == "modification" and r["Champ"] == "titre [fr]")
    assert (change["Ancienne valeur"], change["Nouvelle valeur"]) == ("Ville news", "Titre corrigé")
    assert change["Auteur"] == superuser.get_username()
    assert change["Rôle"] == "administrateur"
    assert change["Organisation"] == news.organization.name


def test_export_json_is_the_same_rows(superuser_client, city_items):
    news = city_items["news"]

    response = _export(superuser_client, item_type="news", item_id=news.pk, format="json")

    rows = json.loads(b"".join(response.streaming_content))
    assert rows and {r["Action"] for r in rows} == {"création"}
    assert {r["Numéro"] for r in rows} == {news.pk}


def test_editor_exports_only_their_organizations(editor_client, city, city_items, metropole_items):
    mine = _csv(_export(editor_client, organization=city.pk))
    assert {r["Organisation"] for r in mine} == {city.name}

    theirs = metropole_items["news"]
    refused = _export(editor_client, organization=city.pk, item_type="news", item_id=theirs.pk)
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == [
        "Ce contenu n'appartient pas à vos organisations."
    ]
    other_org = _export(editor_client, organization=theirs.organization_id)
    assert other_org.status_code == 400


def test_export_refuses_bad_periods_fast(superuser_client):
    url = reverse(EXPORT)
    backwards = superuser_client.get(url, {"since": "2026-02-01", "until": "2026-01-01"})
    too_long = superuser_client.get(url, {"since": "2020-01-01", "until": "2026-01-01"})
    garbage = superuser_client.get(url, {"since": "hier", "until": "x" * 5000})

    assert backwards.status_code == too_long.status_code == garbage.status_code == 400
    assert "366 jours" in too_long.content.decode()


def test_export_page_is_for_staff_of_an_organization(client, db):
    from tests.factories import UserFactory

    lone = UserFactory(is_staff=True)
    staff_login(client, lone)

    assert client.get(reverse(EXPORT)).status_code == 403
