"""Our items as CAP 1.2 alerts (pure: takes plain values, returns the XML bytes).

``AlertContent`` is what a CAP message says about one item, in each language; ``cap_document``
writes the ``alert`` (header, one ``info`` per language, the ``area``). ``cancel_document``
turns an earlier message into its cancel. The mapping (docs/alerts.md, "Ce que contient le
CAP"): urgency ``alert`` → Immediate / Severe / Observed, ``important`` → Expected / Moderate
/ Likely; ``status`` Exercise for a drill, Test on a staging server (``CAP_STATUS_TEST``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from apps.alerts.cap.schema import CAP_NS, NS, safe_parser

#: CAP's language tags for ours.
LANGUAGE_TAGS = {"fr": "fr-FR", "en": "en-GB"}
DRILL_PREFIX = "EXERCICE"
DRILL_NOTE = "EXERCICE — message d'exercice, aucune action requise. / Drill: no action required."


@dataclass(frozen=True)
class InfoText:
    """One language's texts of an alert."""

    language: str
    event: str
    headline: str
    description: str
    instruction: str = ""


@dataclass(frozen=True)
class AreaContent:
    description: str
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    #: ``(valueName, value)``: ``("INSEE", "69123")``.
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AlertContent:
    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual, Exercise, Test
    msg_type: str  # Alert, Update, Cancel
    references: str
    category: str
    urgency: str
    severity: str
    certainty: str
    infos: list[InfoText]
    area: AreaContent
    sender_name: str = ""
    onset: datetime | None = None
    expires: datetime | None = None
    web: str = ""
    contact: str = ""
    note: str = ""


def cap_time(moment: datetime, zone: str = "Europe/Paris") -> str:
    """CAP's ``dateTime``: local time with its offset, no fraction, never ``Z`` (§3.3.2)."""
    local = moment.astimezone(ZoneInfo(zone)).replace(microsecond=0)
    return local.isoformat()


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return (
        ch in "\t\n\r"
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_text(text: str) -> str:
    """Only the characters XML 1.0 allows (no controls but tab and newlines, no U+FFFE/F)."""
    return "".join(ch for ch in text if _xml_char(ch))


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        element.text = xml_text(text)
    return element


def drill(text: str) -> str:
    if not text or text.startswith(DRILL_PREFIX):
        return text or DRILL_PREFIX
    return f"{DRILL_PREFIX} — {text}"


def cap_document(alert: AlertContent, *, zone: str = "Europe/Paris") -> bytes:
    """The CAP 1.2 ``alert`` of ``alert`` as UTF-8 XML bytes."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_time(alert.sent, zone))
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", "Public")
    note = alert.note or (DRILL_NOTE if alert.status == "Exercise" else "")
    if note:
        _sub(root, "note", note)
    if alert.references:
        _sub(root, "references", alert.references)
    exercise = alert.status == "Exercise"
    for info in alert.infos:
        element = _sub(root, "info")
        _sub(element, "language", LANGUAGE_TAGS.get(info.language, info.language))
        _sub(element, "category", alert.category)
        _sub(element, "event", info.event or alert.category)
        if alert.msg_type == "Cancel":
            _sub(element, "responseType", "AllClear")
        _sub(element, "urgency", alert.urgency)
        _sub(element, "severity", alert.severity)
        _sub(element, "certainty", alert.certainty)
        if alert.onset is not None:
            _sub(element, "onset", cap_time(alert.onset, zone))
        if alert.expires is not None:
            _sub(element, "expires", cap_time(alert.expires, zone))
        if alert.sender_name:
            _sub(element, "senderName", alert.sender_name)
        texts = [info.headline, info.description, info.instruction]
        if exercise:
            texts = [drill(text) if text else "" for text in texts]
        headline, description, instruction = texts
        _sub(element, "headline", headline[:160])
        if description:
            _sub(element, "description", description)
        if instruction:
            _sub(element, "instruction", instruction)
        if alert.web:
            _sub(element, "web", alert.web)
        if alert.contact:
            _sub(element, "contact", alert.contact)
        area = _sub(element, "area")
        _sub(area, "areaDesc", alert.area.description)
        for polygon in alert.area.polygons:
            _sub(area, "polygon", polygon)
        for circle in alert.area.circles:
            _sub(area, "circle", circle)
        for name, value in alert.area.geocodes:
            geocode = _sub(area, "geocode")
            _sub(geocode, "valueName", name)
            _sub(geocode, "value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def reference_of(*, sender: str, identifier: str, sent: datetime, zone: str) -> str:
    """``sender,identifier,sent``: how a later message names this one (§3.2.1)."""
    return f"{sender},{identifier},{cap_time(sent, zone)}"


CANCEL_HEADLINE = {"fr": "Fin d'alerte : {headline}", "en": "Alert lifted: {headline}"}
CANCEL_DESCRIPTION = {
    "fr": "Cette alerte est levée par son émetteur.",
    "en": "This alert was withdrawn by its sender.",
}


def cancel_document(
    previous: bytes, *, identifier: str, sent: datetime, references: str, zone: str
) -> bytes:
    """The cancel of the message ``previous``: same areas, ``msgType`` Cancel, ``references``
    to every earlier message, headlines saying the alert is lifted."""
    root = etree.fromstring(previous, parser=safe_parser())
    root.find("cap:identifier", NS).text = identifier
    root.find("cap:sent", NS).text = cap_time(sent, zone)
    root.find("cap:msgType", NS).text = "Cancel"
    existing = root.find("cap:references", NS)
    if existing is None:
        existing = etree.Element(f"{{{CAP_NS}}}references")
        anchor = root.find("cap:note", NS)
        if anchor is None:
            anchor = root.find("cap:scope", NS)
        anchor.addnext(existing)
    existing.text = references
    exercise = root.findtext("cap:status", namespaces=NS) == "Exercise"

    def mark(text: str) -> str:
        return drill(text) if exercise else text

    for info in root.iterfind("cap:info", NS):
        language = (info.findtext("cap:language", default="fr", namespaces=NS) or "fr")[:2]
        response = info.find("cap:responseType", NS)
        if response is None:
            response = etree.Element(f"{{{CAP_NS}}}responseType")
            info.find("cap:event", NS).addnext(response)
        response.text = "AllClear"
        headline = info.find("cap:headline", NS)
        if headline is not None:
            template = CANCEL_HEADLINE.get(language, CANCEL_HEADLINE["en"])
            earlier = (headline.text or "").removeprefix(f"{DRILL_PREFIX} — ")
            headline.text = mark(template.format(headline=earlier))[:160]
        description = info.find("cap:description", NS)
        if description is not None:
            description.text = mark(CANCEL_DESCRIPTION.get(language, CANCEL_DESCRIPTION["en"]))
        instruction = info.find("cap:instruction", NS)
        if instruction is not None:
            info.remove(instruction)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
