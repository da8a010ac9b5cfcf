"""The DiaLog link admin (write-only secret) and the works' "Diffusion" panel."""

from __future__ import annotations

import pytest

from apps.core.services import content_publish
from apps.interop.dialog.secrets import secret_decrypt
from apps.interop.models import DialogLink
from testing.fakedialog import Fault
from tests.factories import OrganizationFactory, UserFactory
from tests.interop.dialog_support import closed_works, committed, linked_organization
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff_login(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    return client


def test_the_secret_is_stored_encrypted_and_never_shown_back(admin_client):
    organization = OrganizationFactory(slug="voirie")
    response = admin_client.post(
        "/admin/interop/dialoglink/add/",
        {
            "organization": organization.pk,
            "client_id": "client-voirie",
            "client_secret": "tres-secret-42",
            "identifier_prefix": "LYON-",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = DialogLink.objects.get(organization=organization)
    assert "tres-secret-42" not in link.secret_encrypted
    assert secret_decrypt(link.secret_encrypted) == "tres-secret-42"

    page = admin_client.get(f"/admin/interop/dialoglink/{link.pk}/change/").content.decode()
    assert "tres-secret-42" not in page
    assert link.secret_encrypted not in page
    assert 'name="client_secret"' in page

    admin_client.post(
        f"/admin/interop/dialoglink/{link.pk}/change/",
        {"client_id": "client-voirie-2", "client_secret": "", "identifier_prefix": "LYON-"},
    )
    link.refresh_from_db()
    assert link.client_id == "client-voirie-2"
    assert secret_decrypt(link.secret_encrypted) == "tres-secret-42"  # kept
    assert link.enabled is False


def test_a_new_link_needs_its_secret_and_a_clean_prefix(admin_client):
    organization = OrganizationFactory(slug="voirie")
    response = admin_client.post(
        "/admin/interop/dialoglink/add/",
        {"organization": organization.pk, "client_id": "c", "identifier_prefix": "a/b"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Le secret client est obligatoire." in content
    assert "Lettres, chiffres" in content
    assert not DialogLink.objects.exists()


def panel(client, works) -> str:
    content = client.get(f"/admin/works/works/{works.pk}/change/").content.decode()
    start = content.index('id="diffusion"')
    return content[start : content.index("</table>", start)]


def test_the_panel_of_a_draft_says_nothing_is_sent_yet(admin_client, fake_dialog):
    works = closed_works(linked_organization(slug="voirie"), notify=True)

    html = panel(admin_client, works)

    assert "Seront notifiés à la publication." in html
    assert "un brouillon n&#x27;est jamais envoyé" in html
    assert "Non inclus : brouillon." in html


def test_the_panel_shows_dialog_s_refusal_in_french_with_the_violations(
    admin_client, fake_dialog, django_capture_on_commit_callbacks
):
    title = "La date de fin doit être postérieure à la date de début."
    fake_dialog.script(
        Fault(
            422,
            {
                "status": 422,
                "detail": "Validation failed",
                "violations": [{"propertyPath": "measures[0].periods[0].endDate", "title": title}],
            },
        )
    )
    works = closed_works(linked_organization(slug="voirie"), notify=False)
    with committed(django_capture_on_commit_callbacks):
        content_publish(item=works)

    html = panel(admin_client, works)

    assert "level-error" in html
    assert "DiaLog a refusé l&#x27;arrêté (données invalides)" in html
    assert f"measures[0].periods[0].endDate : {title}".replace("'", "&#x27;") in html
    assert "Inclus dans les flux ouverts." in html
    assert "« Notifier » n&#x27;est pas coché" in html


def test_the_panel_of_sent_works_shows_the_published_regulation(
    admin_client, fake_dialog, django_capture_on_commit_callbacks
):
    works = closed_works(linked_organization(slug="voirie"), notify=False)
    with committed(django_capture_on_commit_callbacks):
        content_publish(item=works)

    html = panel(admin_client, works)

    assert f"Arrêté QRT-{works.pk} : publié." in html
    assert 'channel-dialog level-ok"' in html


def test_the_panel_of_an_unlinked_organization(admin_client):
    works = closed_works(OrganizationFactory(slug="autre"))
    assert "n&#x27;est pas reliée à DiaLog" in panel(admin_client, works)
