"""Incoming CAP 1.2 documents → ``IncomingAlert`` (after ``schema.cap_errors`` passed).

Areas: every ``polygon`` and ``circle`` of every ``info`` (a CAP area is the union of its
shapes), and the ``geocode`` values. Texts per ``info`` language (``fr-FR`` → ``fr``). An
optional XML-DSig signature (CAP 1.2 §3.3.4) is checked with ``signxml`` against the
certificate the staff entered for the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _
from lxml import etree

from apps.alerts.cap.geometry import circle_from_text, polygon_from_text, union_of
from apps.alerts.cap.schema import NS, safe_parser

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent: str


@dataclass
class IncomingInfo:
    language: str
    event: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    severity: str = ""
    urgency: str = ""
    sender_name: str = ""
    web: str = ""
    expires: datetime | None = None


@dataclass
class IncomingAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    references: list[Reference] = field(default_factory=list)
    infos: list[IncomingInfo] = field(default_factory=list)
    geometry: GEOSGeometry | None = None
    area_names: list[str] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)

    def info_for(self, language: str) -> IncomingInfo | None:
        return next((info for info in self.infos if info.language == language), None)


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path, default="", namespaces=NS) or "").strip()


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def references_of(text: str) -> list[Reference]:
    references = []
    for triple in text.split():
        sender, identifier, sent = triple.split(",")
        references.append(Reference(sender, identifier, sent))
    return references


def cap_parse(document: bytes) -> IncomingAlert:
    """A CAP document already validated (``cap_errors`` empty) as an ``IncomingAlert``."""
    root = etree.fromstring(document, parser=safe_parser())
    alert = IncomingAlert(
        identifier=_text(root, "cap:identifier"),
        sender=_text(root, "cap:sender"),
        sent=datetime.fromisoformat(_text(root, "cap:sent")),
        status=_text(root, "cap:status"),
        msg_type=_text(root, "cap:msgType"),
        references=references_of(_text(root, "cap:references")),
    )
    shapes = []
    names: list[str] = []
    codes: list[tuple[str, str]] = []
    for info in root.iterfind("cap:info", NS):
        alert.infos.append(
            IncomingInfo(
                language=(_text(info, "cap:language") or "en-US")[:2].lower(),
                event=_text(info, "cap:event"),
                headline=_text(info, "cap:headline"),
                description=_text(info, "cap:description"),
                instruction=_text(info, "cap:instruction"),
                severity=_text(info, "cap:severity"),
                urgency=_text(info, "cap:urgency"),
                sender_name=_text(info, "cap:senderName"),
                web=_text(info, "cap:web"),
                expires=_time(_text(info, "cap:expires")),
            )
        )
        for area in info.iterfind("cap:area", NS):
            name = _text(area, "cap:areaDesc")
            if name and name not in names:
                names.append(name)
            shapes += [polygon_from_text(p.text or "") for p in area.iterfind("cap:polygon", NS)]
            shapes += [circle_from_text(c.text or "") for c in area.iterfind("cap:circle", NS)]
            for geocode in area.iterfind("cap:geocode", NS):
                pair = (_text(geocode, "cap:valueName"), _text(geocode, "cap:value"))
                if pair not in codes:
                    codes.append(pair)
    alert.geometry = union_of(shapes)
    alert.area_names, alert.geocodes = names, codes
    return alert


def is_signed(document: bytes) -> bool:
    root = etree.fromstring(document, parser=safe_parser())
    return root.find(f"{{{DSIG_NS}}}Signature") is not None


def signature_error(document: bytes, certificate: str) -> str:
    """Why the document's enveloped signature does not verify with ``certificate`` ("" if it
    does)."""
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidInput, InvalidSignature

    if not is_signed(document):
        return _("non signée : aucun élément Signature (XML-DSig)")
    try:
        XMLVerifier().verify(document, x509_cert=certificate)
    except (InvalidSignature, InvalidInput) as error:
        return (_("signature invalide : %(error)s") % {"error": error})[:300]
    except ValueError as error:  # an unreadable certificate
        return (_("certificat inutilisable : %(error)s") % {"error": error})[:300]
    return ""
