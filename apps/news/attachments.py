"""What an attachment may be: a whitelist of types recognised from the file's content.

The name an editor gives a file says nothing (``arrete.pdf`` may hold a page of HTML and
script), so the type is read from the bytes: magic numbers (``filetype``) for PDF and images,
and for the zip containers of office documents the container itself — the ``mimetype`` member
of an OpenDocument file, the main part declared in an Office Open XML ``[Content_Types].xml``.
Macro-enabled documents are refused. The stored name's extension and the Content-Type the
file is served with both come from the detected type, never from the upload.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AttachmentType:
    extension: str
    content_type: str
    label: str


PDF = AttachmentType("pdf", "application/pdf", "PDF")
PNG = AttachmentType("png", "image/png", "PNG")
JPEG = AttachmentType("jpg", "image/jpeg", "JPEG")
GIF = AttachmentType("gif", "image/gif", "GIF")
WEBP = AttachmentType("webp", "image/webp", "WebP")
_ODF = "application/vnd.oasis.opendocument."
ODT = AttachmentType("odt", _ODF + "text", "OpenDocument (texte)")
ODS = AttachmentType("ods", _ODF + "spreadsheet", "OpenDocument (tableur)")
ODP = AttachmentType("odp", _ODF + "presentation", "OpenDocument (présentation)")
ODG = AttachmentType("odg", _ODF + "graphics", "OpenDocument (dessin)")
_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = AttachmentType("docx", _OOXML + "wordprocessingml.document", "Word")
XLSX = AttachmentType("xlsx", _OOXML + "spreadsheetml.sheet", "Excel")
PPTX = AttachmentType("pptx", _OOXML + "presentationml.presentation", "PowerPoint")

ALLOWED: tuple[AttachmentType, ...] = (
    PDF,
    PNG,
    JPEG,
    GIF,
    WEBP,
    ODT,
    ODS,
    ODP,
    ODG,
    DOCX,
    XLSX,
    PPTX,
)
ALLOWED_CONTENT_TYPES: frozenset[str] = frozenset(t.content_type for t in ALLOWED)
BY_EXTENSION: dict[str, AttachmentType] = {t.extension: t for t in ALLOWED}

#: ``filetype``'s answer for the plain (non-zip) types we accept.
_MAGIC = {"pdf": PDF, "png": PNG, "apng": PNG, "jpg": JPEG, "gif": GIF, "webp": WEBP}
#: An OpenDocument file's ``mimetype`` member -> its type.
_ODF_TYPES = {t.content_type: t for t in (ODT, ODS, ODP, ODG)}
#: The main part an Office Open XML package declares -> its type (macro-free variants only).
_OOXML_MAIN = {
    _OOXML + "wordprocessingml.document.main+xml": DOCX,
    _OOXML + "spreadsheetml.sheet.main+xml": XLSX,
    _OOXML + "presentationml.presentation.main+xml": PPTX,
}

#: Attachments larger than this are refused (a decree's scan is a few MiB).
MAX_BYTES = 20 * 1024 * 1024
#: Bytes read for the magic numbers; members read from a zip: bounded, whatever the upload says.
_HEAD_BYTES = 8192
_MAX_MEMBERS = 5000
_MAX_MEMBER_BYTES = 256 * 1024

_REFUSED = _(
    "Type de fichier refusé : une pièce jointe doit être un PDF, une image (PNG, JPEG, GIF, "
    "WebP) ou un document OpenDocument ou Office (odt, ods, odp, odg, docx, xlsx, pptx), "
    "sans macro. Le type est lu dans le contenu du fichier, pas dans son nom."
)


def attachment_type_detect(file: IO[bytes]) -> AttachmentType | None:
    """The whitelisted type of ``file``'s content, or None. Reads a bounded part of it."""
    file.seek(0)
    head = file.read(_HEAD_BYTES)
    file.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.extension in _MAGIC:
        return _MAGIC[kind.extension]
    if head.startswith(b"PK\x03\x04"):
        try:
            return _container_type(file)
        finally:
            file.seek(0)
    return None


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_MEMBER_BYTES:
        return None
    with archive.open(info) as member:
        return member.read(_MAX_MEMBER_BYTES + 1)[:_MAX_MEMBER_BYTES]


def _container_type(file: IO[bytes]) -> AttachmentType | None:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if len(names) > _MAX_MEMBERS:
                return None
            mimetype = _read_member(archive, "mimetype")
            if mimetype is not None:
                # OpenDocument macros live in Basic/ and Scripts/.
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    return None
                return _ODF_TYPES.get(mimetype.decode("ascii", "replace").strip())
            declared = _read_member(archive, "[Content_Types].xml")
            if declared is None:
                return None
            # ContentType="…" attributes, read as text: no XML parser on untrusted input.
            types = set(re.findall(rb'ContentType="([^"]+)"', declared))
            if any(b"macroEnabled" in t or b"vbaProject" in t for t in types):
                return None
            found = {_OOXML_MAIN[t.decode()] for t in types if t.decode() in _OOXML_MAIN}
            return found.pop() if len(found) == 1 else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError):
        return None  # corrupt, encrypted or exotic: not a document we can vouch for


def attachment_name(*, original: str, kind: AttachmentType) -> str:
    """A safe stored name: the upload's stem in ASCII, the detected type's extension."""
    stem = original.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:80] or "piece-jointe"
    return f"{stem}.{kind.extension}"


def attachment_validate(file: IO[bytes] | None) -> AttachmentType:
    """The detected type of an uploaded attachment, or a French ``ValidationError``."""
    if file is None:
        raise ValidationError(_REFUSED, code="type")
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(
            _("Fichier trop volumineux : %(max)d Mio au plus."),
            code="size",
            params={"max": MAX_BYTES // (1024 * 1024)},
        )
    kind = attachment_type_detect(file)
    if kind is None:
        raise ValidationError(_REFUSED, code="type")
    return kind
