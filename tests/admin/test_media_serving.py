"""Media as Django serves them in debug and demo mode: nothing runs on the admin's origin."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.urls("tests.admin.media_urls")

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "attachments").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("attachments/arrete.html", "application/octet-stream"),
        ("attachments/page.htm", "application/octet-stream"),
        ("attachments/image.svg", "application/octet-stream"),
        ("attachments/sans-extension", "application/octet-stream"),
        ("attachments/arrete.pdf", "application/pdf"),
        (
            "attachments/note.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("attachments/compte-rendu.odt", "application/vnd.oasis.opendocument.text"),
    ],
)
def test_media_serve_documents_are_downloads_with_nosniff_and_a_sandbox(
    client, media, name, content_type
):
    (media / name).write_bytes(b"<script>alert(document.cookie)</script>")

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith(SANDBOX)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("content/piscine.jpg", "image/jpeg"),
        ("attachments/plan.png", "image/png"),
        ("attachments/carte.webp", "image/webp"),
        ("attachments/carte.gif", "image/gif"),
    ],
)
def test_media_serve_images_are_shown_in_place_with_nosniff_and_a_sandbox(
    client, media, name, content_type
):
    (media / name).parent.mkdir(exist_ok=True)
    (media / name).write_bytes(b"\x89PNG\r\n\x1a\n")

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert not response.get("Content-Disposition", "inline").startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith(SANDBOX)


def test_media_serve_refuses_paths_outside_media_root(client, media):
    (media.parent / "secret.txt").write_text("secret")

    response = client.get("/media/../secret.txt")

    assert response.status_code in (400, 404)
    assert b"secret" not in response.content
