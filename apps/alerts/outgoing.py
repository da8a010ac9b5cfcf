"""What a CAP message says about one of our items: the ORM side of ``cap.build``.

The mapping (docs/alerts.md, "Ce que contient le CAP"): one ``info`` per language the item
is written in (French always, English when the title is translated); category from the
item's category slug (``CATEGORY_WORDS``), else by type; our urgency to CAP's urgency,
severity and certainty; ``onset`` the start (works, events) or the publication, ``expires``
the item's expiry or end; ``web`` the item's public page; the ``area`` from the geometry, or
the communes for a city-wide item, with the INSEE codes of the communes touched.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.utils.text import slugify

from apps.alerts.cap.build import AlertContent, AreaContent, InfoText
from apps.alerts.cap.geometry import cap_shapes, ring_text
from apps.core.models import Area, AreaKind, PublishableContent, Urgency
from apps.core.pages import item_page_url

#: CAP categories (§3.2.2) by a word of our category's slug, first match wins.
CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("meteo", "Met"),
    ("climat", "Met"),
    ("inond", "Met"),
    ("crue", "Met"),
    ("canicule", "Met"),
    ("sante", "Health"),
    ("incendie", "Fire"),
    ("feu", "Fire"),
    ("pollution", "Env"),
    ("environnement", "Env"),
    ("seisme", "Geo"),
    ("securite", "Safety"),
    ("mobilite", "Transport"),
    ("transport", "Transport"),
    ("circulation", "Transport"),
    ("travaux", "Transport"),
    ("voirie", "Transport"),
    ("eau", "Infra"),
    ("energie", "Infra"),
    ("reseau", "Infra"),
)
CATEGORY_BY_TYPE = {"news": "Safety", "works": "Transport", "events": "Safety"}
#: Our urgency → CAP urgency, severity, certainty.
LEVELS = {
    Urgency.ALERT: ("Immediate", "Severe", "Observed"),
    Urgency.IMPORTANT: ("Expected", "Moderate", "Likely"),
    Urgency.INFO: ("Future", "Minor", "Possible"),
}
#: A body paragraph opening with one of these is the CAP ``instruction`` (what to do).
_INSTRUCTION = re.compile(r"^\s*(consignes|instructions?)\s*:?", re.IGNORECASE | re.MULTILINE)


def public_url(item: PublishableContent) -> str:
    """The item's public page (``apps.core.pages``, the public site's address): CAP's web."""
    return item_page_url(item)


def cap_sender() -> str:
    """``CAP_SENDER``, else the public site's host (no spaces or commas, §3.2.1)."""
    sender = settings.CAP_SENDER or urlsplit(settings.SITE_URL).hostname or "quartier"
    return re.sub(r"[\s,<&]", "-", sender)


def cap_eligible(item: PublishableContent) -> bool:
    """Is ``item`` published as CAP? Urgency ``alert``; ``important`` too by setting."""
    threshold = Urgency.IMPORTANT if settings.CAP_INCLUDE_IMPORTANT else Urgency.ALERT
    return item.urgency >= threshold


def cap_status(item: PublishableContent) -> str:
    if item.exercise:
        return "Exercise"
    return "Test" if settings.CAP_STATUS_TEST else "Actual"


def _translated(obj: Any, field: str, language: str) -> str:
    for name in (f"{field}_{language}", f"{field}_fr", field):
        value = getattr(obj, name, None)
        if value:
            return str(value)
    return ""


def category_of(item: PublishableContent) -> str:
    slug = slugify(getattr(item.category, "slug", "") or "")
    for word, category in CATEGORY_WORDS:
        if word in slug:
            return category
    return CATEGORY_BY_TYPE.get(item.type_code, "Other")


def split_instruction(body: str) -> tuple[str, str]:
    """``body`` → (description part, instruction part): the paragraph that opens with
    "Consignes :" (or "Instructions:") and what follows is the instruction."""
    match = _INSTRUCTION.search(body or "")
    if match is None:
        return (body or "").strip(), ""
    instruction = body[match.end() :].strip()
    return body[: match.start()].strip(), instruction


def languages_of(item: PublishableContent) -> list[str]:
    codes = [code for code, _name in settings.LANGUAGES]
    return [
        code for code in codes if code == "fr" or (getattr(item, f"title_{code}", "") or "").strip()
    ]


def infos_of(item: PublishableContent) -> list[InfoText]:
    infos = []
    for language in languages_of(item):
        summary = _translated(item, "summary", language)
        description, instruction = split_instruction(_translated(item, "body", language))
        infos.append(
            InfoText(
                language=language,
                event=_translated(item.category, "name", language) or category_of(item),
                headline=_translated(item, "title", language),
                description="\n\n".join(part for part in (summary, description) if part),
                instruction=instruction,
            )
        )
    return infos


def area_of(item: PublishableContent) -> AreaContent:
    """The CAP ``area``: shapes of the geometry (the communes' outlines for a city-wide item),
    the names of the areas touched, the INSEE codes of the communes among them."""
    touched = list(item.areas.all()) if item.pk else []
    communes = [area for area in touched if area.kind == AreaKind.COMMUNE]
    if item.geometry is None:
        communes = list(Area.objects.filter(kind=AreaKind.COMMUNE).order_by("name"))
        polygons = [
            ring_text(polygon)
            for area in communes
            for polygon in area.geometry
            if isinstance(polygon, Polygon)
        ]
        circles: list[str] = []
        touched = communes
    else:
        polygons, circles = cap_shapes(
            item.geometry,
            point_radius_m=settings.CAP_POINT_RADIUS_M,
            line_buffer_m=settings.CAP_LINE_BUFFER_M,
        )
    names = [area.name for area in sorted(touched, key=lambda a: (a.kind != "district", a.name))]
    description = ", ".join(names) or settings.INTEROP_PUBLISHER or cap_sender()
    geocodes = [("INSEE", area.code) for area in communes if area.code]
    return AreaContent(
        description=description, polygons=polygons, circles=circles, geocodes=geocodes
    )


def _onset(item: PublishableContent) -> datetime | None:
    start = getattr(item, "start_at", None)
    if isinstance(start, datetime):
        return start
    return item.publish_at or item.published_at


def _expires(item: PublishableContent) -> datetime | None:
    end = getattr(item, "end_at", None)
    if item.expires_at is not None:
        return item.expires_at
    return end if isinstance(end, datetime) else None


def alert_content(
    item: PublishableContent, *, identifier: str, msg_type: str, references: str, sent: datetime
) -> AlertContent:
    urgency, severity, certainty = LEVELS[Urgency(item.urgency)]
    organization = item.organization
    return AlertContent(
        identifier=identifier,
        sender=cap_sender(),
        sent=sent,
        status=cap_status(item),
        msg_type=msg_type,
        references=references,
        category=category_of(item),
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        infos=infos_of(item),
        area=area_of(item),
        sender_name=organization.name,
        onset=_onset(item),
        expires=_expires(item),
        web=public_url(item),
        contact=organization.phone or organization.email,
    )
