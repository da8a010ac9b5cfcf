"""News attachments: types whitelisted by content in the admin, listed safely, served safely."""

from __future__ import annotations

import importlib
import io
import zipfile

import pytest
from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from apps.news.models import News, NewsAttachment
from tests.admin.conftest import admin_url
from tests.admin.test_forms import _add_data, _errors
from tests.api_support import published_news

pytestmark = pytest.mark.django_db

SCRIPT_PAGE = b"<!doctype html><html><body><script>fetch('/admin/')</script></body></html>"
REFUSED = "Type de fichier refusé"


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, fmt)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def ooxml(main: str, extra: str = "") -> bytes:
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Override PartName="/word/document.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.{main}"/>{extra}</Types>'
    )
    return zip_bytes({"[Content_Types].xml": types.encode(), "word/document.xml": b"<w/>"})


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ODT = zip_bytes(
    {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"}
)
DOCX = ooxml("wordprocessingml.document.main+xml")

ACCEPTED = [
    ("arrete.pdf", PDF, "arrete.pdf", "application/pdf"),
    ("Arrêté n°12 (signé).PDF", PDF, "Arrete-n12-signe.pdf", "application/pdf"),
    ("plan.png", image_bytes("PNG"), "plan.png", "image/png"),
    ("photo.jpeg", image_bytes("JPEG"), "photo.jpg", "image/jpeg"),
    ("carte.gif", image_bytes("GIF"), "carte.gif", "image/gif"),
    ("carte.webp", image_bytes("WEBP"), "carte.webp", "image/webp"),
    ("compte-rendu.odt", ODT, "compte-rendu.odt", "application/vnd.oasis.opendocument.text"),
    (
        "note.docx",
        DOCX,
        "note.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    # The name lies, the content decides: a PDF called .html is stored and served as a PDF.
    ("arrete.html", PDF, "arrete.pdf", "application/pdf"),
]
REFUSED_FILES = [
    ("arrete.html", SCRIPT_PAGE),
    ("arrete.pdf", SCRIPT_PAGE),  # HTML with a PDF's name
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("archive.zip", zip_bytes({"index.html": SCRIPT_PAGE})),
    ("macro.docm", ooxml("wordprocessingml.document.macroEnabled.main+xml")),
    (
        "macro.docx",
        ooxml(
            "wordprocessingml.document.main+xml",
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
        ),
    ),
    (
        "macro.odt",
        zip_bytes(
            {
                "mimetype": b"application/vnd.oasis.opendocument.text",
                "Basic/Standard/Module1.xml": b"<script/>",
            }
        ),
    ),
    ("faux.odt", zip_bytes({"mimetype": b"text/html"})),
    ("vide.pdf", b""),
    ("tronque.docx", b"PK\x03\x04garbage"),
]


def _post_attachment(client, category, name: str, content: bytes):
    data = _add_data(
        client,
        "news",
        category,
        **{
            "attachments-TOTAL_FORMS": "1",
            "attachments-0-title": "Arrêté",
            "attachments-0-position": "0",
            "attachments-0-file": SimpleUploadedFile(name, content, "text/html"),
        },
    )
    return client.post(admin_url("news", "add"), data)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("name", "content"), REFUSED_FILES, ids=[n for n, _ in REFUSED_FILES])
def test_attachment_upload_refuses_what_is_not_a_whitelisted_type(
    editor_client, mobility, media, name, content
):
    response = _post_attachment(editor_client, mobility, name, content)

    assert REFUSED in _errors(response) or "Le fichier soumis est vide" in _errors(response)
    assert not News.objects.exists()
    assert not NewsAttachment.objects.exists()
    assert not any(media.rglob("*.*"))


@pytest.mark.parametrize(
    ("name", "content", "stored", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED]
)
def test_attachment_upload_names_and_types_the_file_from_its_content(
    editor_client, mobility, media, name, content, stored, content_type
):
    response = _post_attachment(editor_client, mobility, name, content)

    assert response.status_code == 302, _errors(response)
    attachment = NewsAttachment.objects.get()
    assert attachment.file.name.rsplit("/", 1)[-1] == stored
    assert attachment.content_type == content_type
    assert attachment.file.read() == content


def test_attachment_too_large_is_refused(editor_client, mobility, media, monkeypatch):
    monkeypatch.setattr("apps.news.attachments.MAX_BYTES", len(PDF) - 1)

    response = _post_attachment(editor_client, mobility, "arrete.pdf", PDF)

    assert "Fichier trop volumineux" in _errors(response)
    assert not NewsAttachment.objects.exists()


def test_attachment_api_lists_only_verified_attachments(mobility, media):
    news = published_news(category=mobility)
    legacy = NewsAttachment(news=news, title="Ancien")  # stored before the check
    legacy.file.save("arrete.html", ContentFile(SCRIPT_PAGE), save=True)
    good = NewsAttachment(news=news, title="Arrêté", content_type="application/pdf")
    good.file.save("arrete.pdf", ContentFile(PDF), save=True)

    data = APIClient().get(f"/api/v1/news/{news.pk}/").json()

    assert [a["title"] for a in data["attachments"]] == ["Arrêté"]


def test_attachment_migration_marks_only_files_whose_content_and_name_agree(mobility, media):
    news = published_news(category=mobility)
    rows = {}
    for title, name, content in [
        ("pdf", "arrete.pdf", PDF),
        ("png", "plan.png", image_bytes("PNG")),
        ("html", "arrete.html", SCRIPT_PAGE),
        ("misnamed", "arrete.html", PDF),  # served as text/html by its name: not listed
        ("fake", "faux.pdf", SCRIPT_PAGE),
    ]:
        row = NewsAttachment(news=news, title=title)
        row.file.save(name, ContentFile(content), save=True)
        rows[title] = row
    missing = NewsAttachment.objects.create(news=news, title="missing", file="attachments/x.pdf")
    migration = importlib.import_module("apps.news.migrations.0005_attachment_content_type")

    migration.check_existing(django_apps, None)

    found = dict(NewsAttachment.objects.values_list("title", "content_type"))
    assert found == {
        "pdf": "application/pdf",
        "png": "image/png",
        "html": "",
        "misnamed": "",
        "fake": "",
        missing.title: "",
    }
