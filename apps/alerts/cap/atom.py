"""The Atom feed (RFC 4287) of our CAP alerts: one entry per alert, linking its CAP document
(``type="application/cap+xml"``), as Google Public Alerts and other aggregators read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from apps.alerts.cap.build import xml_text

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: datetime
    cap_url: str
    summary: str = ""
    web: str = ""


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", **attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom_feed(
    entries: list[FeedEntry],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    author: str,
    updated: datetime,
) -> bytes:
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", updated.isoformat(timespec="seconds"))
    _sub(root, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(_sub(root, "author"), "name", author)
    for entry in entries:
        element = _sub(root, "entry")
        _sub(element, "id", entry.id)
        _sub(element, "title", entry.title)
        _sub(element, "updated", entry.updated.isoformat(timespec="seconds"))
        _sub(element, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=entry.cap_url)
        if entry.web:
            _sub(element, "link", rel="related", type="text/html", href=entry.web)
        if entry.summary:
            _sub(element, "summary", entry.summary)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
