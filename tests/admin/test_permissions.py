"""Per-organization rights in the admin: the city's editor never sees the metropole's content."""

from __future__ import annotations

import pytest

from apps.core.models import Status, Tombstone
from apps.core.registry import model_for
from tests.admin.conftest import FACTORIES, admin_url
from tests.admin.formdata import form_data
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    VenueFactory,
)

pytestmark = pytest.mark.django_db
TYPES = ["news", "works", "events"]


@pytest.mark.parametrize("type_code", TYPES)
def test_changelist_editor_sees_only_their_organization(
    type_code, editor_client, city_items, metropole_items
):
    response = editor_client.get(admin_url(type_code, "changelist"))

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [city_items[type_code]]
    assert f"Métropole {type_code}" not in response.content.decode()


@pytest.mark.parametrize("type_code", TYPES)
def test_changelist_organization_filter_lists_only_their_organizations(
    type_code, editor_client, city_editor, city_items, metropole_items, mobility
):
    transports = OrganizationFactory(slug="transports", name="Régie des transports")
    MembershipFactory(user=city_editor, organization=transports)
    FACTORIES[type_code](organization=transports, category=mobility)

    response = editor_client.get(admin_url(type_code, "changelist"))

    changelist = response.context["cl"]
    (spec,) = [spec for spec in changelist.filter_specs if spec.field_path == "organization"]
    choices = [choice["display"] for choice in spec.choices(changelist)]
    assert "Ville de Lyonnay" in choices
    assert "Régie des transports" in choices
    assert "Métropole" not in choices


@pytest.mark.parametrize("type_code", TYPES)
def test_changelist_superuser_sees_everything(
    type_code, superuser_client, city_items, metropole_items
):
    response = superuser_client.get(admin_url(type_code, "changelist"))

    assert set(response.context["cl"].result_list) == {
        city_items[type_code],
        metropole_items[type_code],
    }


@pytest.mark.parametrize("type_code", TYPES)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_organization_item_answers_404(type_code, view, editor_client, metropole_items):
    item = metropole_items[type_code]

    assert editor_client.get(admin_url(type_code, view, item.pk)).status_code == 404
    assert (
        editor_client.post(admin_url(type_code, view, item.pk), {"post": "yes"}).status_code == 404
    )

    item.refresh_from_db()
    assert item.title_fr == f"Métropole {type_code}"


@pytest.mark.parametrize("type_code", TYPES)
def test_unknown_item_answers_the_same_404(type_code, editor_client, city_items):
    assert editor_client.get(admin_url(type_code, "change", 999_999)).status_code == 404
    assert editor_client.get(admin_url(type_code, "change", "not-a-number")).status_code == 404


@pytest.mark.parametrize("type_code", TYPES)
def test_own_item_can_be_viewed_and_deleted_through_the_service(
    type_code, editor_client, city_items
):
    item = city_items[type_code]
    assert editor_client.get(admin_url(type_code, "change", item.pk)).status_code == 200

    response = editor_client.post(admin_url(type_code, "delete", item.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not type(item).objects.filter(pk=item.pk).exists()
    # content_delete leaves a tombstone for syncing API clients; a bare delete would not.
    assert Tombstone.objects.filter(
        item_type=type_code, item_id=item.pk, reason=Tombstone.Reason.DELETED
    ).exists()


@pytest.mark.parametrize("type_code", TYPES)
def test_bulk_delete_ignores_other_organization_ids(
    type_code, editor_client, city_items, metropole_items
):
    ours, theirs = city_items[type_code], metropole_items[type_code]

    editor_client.post(
        admin_url(type_code, "changelist"),
        {"action": "delete_selected", "_selected_action": [ours.pk, theirs.pk], "post": "yes"},
    )

    model = model_for(type_code)
    assert not model.objects.filter(pk=ours.pk).exists()
    assert model.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("type_code", TYPES)
def test_actions_ignore_other_organization_ids(type_code, editor_client, metropole_items):
    theirs = metropole_items[type_code]

    editor_client.post(
        admin_url(type_code, "changelist"),
        {"action": "publish_selected", "_selected_action": [theirs.pk]},
    )

    theirs.refresh_from_db()
    assert theirs.status == Status.DRAFT


def test_schedule_page_ignores_other_organization_ids(editor_client, metropole_items):
    theirs = metropole_items["news"]

    response = editor_client.get(admin_url("news", "schedule") + f"?ids={theirs.pk}", follow=True)

    assert "Aucun contenu sélectionné." in response.content.decode()
    assert "Métropole news" not in response.content.decode()


@pytest.mark.parametrize("type_code", TYPES)
def test_add_form_offers_only_their_organizations(
    type_code, editor_client, city, metropole, mobility
):
    response = editor_client.get(admin_url(type_code, "add"))

    field = response.context["adminform"].form.fields["organization"]
    assert list(field.queryset) == [city]
    # With a single organization it is preselected.
    assert response.context["adminform"].form.initial["organization"] == city.pk


def test_posting_another_organization_is_a_form_error(editor_client, city, metropole, mobility):
    page = editor_client.get(admin_url("news", "add"))
    data = form_data(page, "news_form")
    data.update(title_fr="Fausse annonce", category=mobility.pk, organization=metropole.pk)

    response = editor_client.post(admin_url("news", "add"), data)

    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not model_for("news").objects.filter(title_fr="Fausse annonce").exists()


def test_superuser_may_choose_any_organization(superuser_client, city, metropole):
    response = superuser_client.get(admin_url("news", "add"))

    field = response.context["adminform"].form.fields["organization"]
    assert set(field.queryset) == {city, metropole}


def test_staff_without_membership_has_no_content_access(client, city_items):
    client.force_login(UserFactory(username="stagiaire"))

    assert client.get(admin_url("works", "changelist")).status_code == 403
    assert client.get(admin_url("works", "add")).status_code == 403
    assert client.get(admin_url("works", "change", city_items["works"].pk)).status_code == 404


def test_taxonomy_is_view_only_for_editors(editor_client, city, metropole, mobility):
    area = AreaFactory(slug="presquile", name="Presqu'île")

    assert editor_client.get("/admin/core/category/").status_code == 200
    assert editor_client.get(f"/admin/core/category/{mobility.pk}/change/").status_code == 200
    assert editor_client.get("/admin/core/category/add/").status_code == 403
    response = editor_client.post(
        f"/admin/core/category/{mobility.pk}/change/",
        {"name_fr": "Piraté", "slug": "mobilite", "colour": "#000000", "position": 0},
    )
    assert response.status_code == 403
    mobility.refresh_from_db()
    assert mobility.name_fr == "Mobilité"

    page = editor_client.get(f"/admin/core/area/{area.pk}/change/")
    assert page.status_code == 200
    assert "polygone(s)" in page.content.decode()  # a summary, not the coordinates
    assert editor_client.get("/admin/core/area/add/").status_code == 403

    organizations = editor_client.get("/admin/core/organization/")
    assert list(organizations.context["cl"].result_list) == [city]
    assert editor_client.get(f"/admin/core/organization/{city.pk}/change/").status_code == 200
    assert editor_client.get(f"/admin/core/organization/{metropole.pk}/change/").status_code == 404
    assert editor_client.get("/admin/core/organization/add/").status_code == 403


def test_superuser_edits_taxonomy(superuser_client):
    assert superuser_client.get("/admin/core/category/add/").status_code == 200
    assert superuser_client.get("/admin/core/area/add/").status_code == 200
    assert superuser_client.get("/admin/core/organization/add/").status_code == 200


def test_editor_sees_and_edits_the_inlines_of_their_items(editor_client, city_items):
    page = editor_client.get(admin_url("works", "change", city_items["works"].pk))

    assert "periods-TOTAL_FORMS" in page.content.decode()
    assert page.context["inline_admin_formsets"][0].has_add_permission


def test_venues_are_shared_members_add_them(editor_client):
    assert editor_client.get("/admin/events/venue/").status_code == 200
    assert editor_client.get("/admin/events/venue/add/").status_code == 200


def test_venue_autocomplete_works_for_editors(editor_client):
    VenueFactory(name="Salle Rameau")

    response = editor_client.get(
        "/admin/autocomplete/",
        {"app_label": "events", "model_name": "event", "field_name": "venue", "term": "ram"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Salle Rameau"]


def test_superuser_makes_an_editor_on_the_user_page(superuser_client, city):
    newcomer = UserFactory(username="nouvelle")
    url = f"/admin/auth/user/{newcomer.pk}/change/"
    data = form_data(superuser_client.get(url), "user_form")
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-organization": city.pk,
            "memberships-0-role": "editor",
        }
    )

    response = superuser_client.post(url, data)

    assert response.status_code == 302
    assert list(newcomer.memberships.values_list("organization__slug", flat=True)) == ["ville"]


def test_editors_do_not_manage_accounts(editor_client, city_editor):
    assert editor_client.get("/admin/auth/user/").status_code == 403
    assert editor_client.get(f"/admin/auth/user/{city_editor.pk}/change/").status_code == 403
