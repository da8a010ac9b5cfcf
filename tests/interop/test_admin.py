"""The "Sources" admin: list with counts and errors, the import action, editors' scope."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile

from apps.core.models import Membership
from apps.interop.models import Source, SourceFormat
from apps.works.models import Works
from tests.factories import CategoryFactory, OrganizationFactory, UserFactory
from tests.interop.conftest import STANDARDS
from tests.staff import staff_login

EXAMPLE = (
    STANDARDS / "wzdx-4.2/examples/scenario3_shoulder_bidirectional_linestring_example.geojson"
)


@pytest.fixture
def file_source(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    source = Source(
        name="Partenaire (fichier)",
        format=SourceFormat.WZDX,
        organization=OrganizationFactory(slug="metropole"),
        category=CategoryFactory(),
    )
    source.file.save("feed.geojson", ContentFile(EXAMPLE.read_bytes()), save=False)
    source.save()
    return source


def test_admin_run_now_imports_and_shows_the_counts(client, file_source):
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))

    response = client.post(
        "/admin/interop/source/",
        {"action": "run_now", "_selected_action": [file_source.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 source importée" in response.content.decode()
    file_source.refresh_from_db()
    assert (file_source.created_count, file_source.last_error) == (2, "")
    assert Works.objects.filter(import_origin__source=file_source).count() == 2


def test_admin_sources_list_warns_about_a_failing_source(client, file_source):
    Source.objects.filter(pk=file_source.pk).update(last_error="WZDx 4.2 invalide : $.features")
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))

    page = client.get("/admin/interop/source/").content.decode()

    assert "Partenaire (fichier) : WZDx 4.2 invalide : $.features" in page


def test_admin_editor_sees_only_the_sources_of_their_organizations(client, file_source):
    editor = UserFactory(username="camille", is_staff=True)
    Membership.objects.create(user=editor, organization=OrganizationFactory(slug="ville"))
    editor.user_permissions.add(*Permission.objects.filter(codename__endswith="_source"))
    Source.objects.filter(pk=file_source.pk).update(last_error="en panne")
    staff_login(client, editor)

    listing = client.get("/admin/interop/source/").content.decode()
    index = client.get("/admin/").content.decode()

    assert "Partenaire (fichier)" not in listing
    assert 'id="failing-sources"' not in index


def test_admin_run_now_reports_a_missing_file_without_an_error_page(client, file_source):
    file_source.file.delete(save=False)
    file_source.file.name = "interop/sources/gone.geojson"
    file_source.save()
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))

    response = client.post(
        "/admin/interop/source/",
        {"action": "run_now", "_selected_action": [file_source.pk]},
        follow=True,
    )

    assert response.status_code == 200
    file_source.refresh_from_db()
    assert "gone.geojson" in file_source.last_error
