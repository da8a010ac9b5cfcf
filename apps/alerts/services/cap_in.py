"""CAP in: the sources the staff configured, polled; each alert that concerns the commune
becomes a draft alert for an editor to publish (docs/alerts.md, "Alertes reçues").

Per document (``cap_document_receive``), in one transaction:

- already read (same bytes from this source): nothing;
- not CAP 1.2 (schema, specification), or unsigned / badly signed when the source has a
  certificate: recorded ``invalid`` with the reason, nothing else changes;
- status other than Actual, msgType Ack or Error, or already received under the same
  sender and identifier: ``ignored``;
- an Alert whose area meets the commune: a draft ``News`` at urgency ``alert``, its geometry
  clipped to the commune's areas, texts from the ``info`` in French and English, the source
  named ("Source : …"); outside the commune: ``outside``;
- an Update of an alert we hold: the draft is rewritten, or the published alert updated
  through the usual update flow (an update push, a CAP Update); a Cancel: the draft is
  deleted, the published alert archived (a CAP Cancel follows).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import feedparser
from django.contrib.gis.geos import GeometryCollection, GEOSGeometry, MultiPolygon, Polygon
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts.cap.parse import IncomingAlert, cap_parse, signature_error
from apps.alerts.cap.schema import cap_errors
from apps.alerts.fetch import FetchError, fetch
from apps.alerts.models import CapInbound, CapSource, Outcome, SourceKind
from apps.core.audit.actors import acting_as, import_label
from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind, Status, Urgency
from apps.core.services import content_archive, content_delete
from apps.news.models import News
from apps.news.services import news_apply

logger = logging.getLogger(__name__)

#: CAP documents read per feed and poll, at most, and no new one after this many seconds (the
#: rest waits for the next poll, a minute later): a poll never runs unbounded.
MAX_FEED_DOCUMENTS = 50
POLL_BUDGET_S = 40.0
TITLE_MAX, SUMMARY_MAX = 200, 500
SOURCE_LINE = {"fr": "Source : {name}", "en": "Source: {name}"}
INSTRUCTION_LINE = {"fr": "Consignes : {text}", "en": "Instructions: {text}"}


def _commune() -> GEOSGeometry | None:
    """The commune's territory: the union of its commune areas (of every area if none)."""
    areas = list(Area.objects.filter(kind=AreaKind.COMMUNE)) or list(Area.objects.all())
    merged: GEOSGeometry | None = None
    for area in areas:
        merged = area.geometry if merged is None else merged.union(area.geometry)
    return merged


def _commune_codes() -> set[str]:
    return set(
        Area.objects.filter(kind=AreaKind.COMMUNE).exclude(code="").values_list("code", flat=True)
    )


def _clipped(alert: IncomingAlert) -> GEOSGeometry | None:
    """The alert's area within the commune (None when they do not meet). An alert with no
    shape but the commune's INSEE code among its geocodes covers the whole commune."""
    commune = _commune()
    if commune is None:
        return None
    if alert.geometry is None:
        codes = {value for name, value in alert.geocodes if name.upper() in ("INSEE", "CODE_INSEE")}
        return commune if codes & _commune_codes() else None
    if not alert.geometry.intersects(commune):
        return None
    polygons = [
        part for part in _polygons(alert.geometry.intersection(commune)) if part.area > 0
    ]  # a touching edge or corner is not a shared area
    if not polygons:
        return None
    clipped = polygons[0] if len(polygons) == 1 else MultiPolygon(*polygons)
    clipped.srid = WGS84
    return clipped


def _polygons(geometry: GEOSGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, GeometryCollection):  # MultiPolygon too
        return [polygon for part in geometry for polygon in _polygons(part)]
    return []


def _texts(alert: IncomingAlert, source: CapSource) -> dict[str, Any]:
    """``title_fr``, ``summary_fr``, ``body_fr`` (and English) from the ``info`` blocks."""
    data: dict[str, Any] = {}
    french = alert.info_for("fr") or (alert.infos[0] if alert.infos else None)
    for language, info in (("fr", french), ("en", alert.info_for("en"))):
        if info is None:
            continue
        name = info.sender_name or source.name or alert.sender
        title = info.headline or info.event or alert.identifier
        body = [info.description]
        if info.instruction:
            body.append(INSTRUCTION_LINE[language].format(text=info.instruction))
        body.append(SOURCE_LINE[language].format(name=name))
        data[f"title_{language}"] = title[:TITLE_MAX]
        data[f"summary_{language}"] = (info.description or title)[:SUMMARY_MAX]
        data[f"body_{language}"] = "\n\n".join(part for part in body if part)
    expires = next((info.expires for info in alert.infos if info.expires), None)
    if expires is not None and expires > timezone.now():
        data["expires_at"] = expires
    return data


def _record(
    source: CapSource,
    digest: str,
    url: str,
    outcome: str,
    detail: str = "",
    alert: IncomingAlert | None = None,
    item: News | None = None,
) -> CapInbound:
    values: dict[str, Any] = {"outcome": outcome, "detail": detail[:2000], "url": url[:500]}
    if alert is not None:
        french = alert.info_for("fr") or (alert.infos[0] if alert.infos else None)
        values.update(
            identifier=alert.identifier[:250],
            sender=alert.sender[:250],
            sent_at=alert.sent,
            msg_type=alert.msg_type,
            status=alert.status,
            references=" ".join(f"{r.sender},{r.identifier},{r.sent}" for r in alert.references),
            headline=(french.headline if french else "")[:250],
        )
    if item is not None:
        values.update(item_type=item.type_code, item_id=item.pk)
    return CapInbound.objects.create(source=source, digest=digest, **values)


def _target(alert: IncomingAlert) -> News | None:
    """The item made from an earlier message this one references (the latest that has one)."""
    for reference in reversed(alert.references):
        row = (
            CapInbound.objects.filter(
                sender=reference.sender, identifier=reference.identifier, item_id__isnull=False
            )
            .order_by("-received_at")
            .first()
        )
        if row is not None and row.item_id is not None:
            item = News.objects.filter(pk=row.item_id).first()
            if item is not None:
                return item
    return None


def _apply(
    alert: IncomingAlert, source: CapSource, geometry: GEOSGeometry, item: News | None
) -> News:
    data = _texts(alert, source)
    data["geometry"] = geometry
    if item is None:
        data.update(urgency=Urgency.ALERT, notify=True, category=source.category)
        return news_apply(data=data, organization=source.organization)
    return news_apply(news=item, data=data)


def cap_document_receive(*, source: CapSource, document: bytes, url: str = "") -> CapInbound | None:
    """Read one CAP document from ``source`` (see the module's docstring); None when these
    bytes were read from this source before (or by a concurrent poll at the same moment)."""
    try:
        with acting_as(import_label(source.name)):
            return _receive(source=source, document=document, url=url)
    except IntegrityError:  # another poll of the same source recorded it first
        return None


@transaction.atomic
def _receive(*, source: CapSource, document: bytes, url: str) -> CapInbound | None:
    digest = hashlib.sha256(document).hexdigest()
    if CapInbound.objects.filter(source=source, digest=digest).exists():
        return None
    errors = cap_errors(document)
    if not errors and source.certificate.strip():
        problem = signature_error(document, source.certificate)
        errors = [problem] if problem else []
    if errors:
        logger.warning("CAP source %s: invalid document %s: %s", source.pk, url, errors)
        return _record(source, digest, url, Outcome.INVALID, "; ".join(errors))
    alert = cap_parse(document)
    if alert.status != "Actual" or alert.msg_type not in ("Alert", "Update", "Cancel"):
        return _record(
            source,
            digest,
            url,
            Outcome.IGNORED,
            _("statut %(status)s, type %(type)s : seules les alertes réelles sont reprises")
            % {"status": alert.status, "type": alert.msg_type},
            alert,
        )
    if (
        CapInbound.objects.filter(sender=alert.sender, identifier=alert.identifier)
        .exclude(outcome=Outcome.INVALID)
        .exists()
    ):
        return _record(source, digest, url, Outcome.IGNORED, _("déjà reçue"), alert)
    target = _target(alert) if alert.msg_type != "Alert" else None
    if alert.msg_type == "Cancel":
        if target is None:
            return _record(
                source, digest, url, Outcome.IGNORED, _("n'annule aucune alerte reçue"), alert
            )
        return _withdraw(source, digest, url, alert, target)
    clipped = _clipped(alert)
    if clipped is None:
        if target is not None:  # the update moved the area out of the commune
            return _withdraw(source, digest, url, alert, target)
        return _record(source, digest, url, Outcome.OUTSIDE, ", ".join(alert.area_names), alert)
    item = _apply(alert, source, clipped, target)
    outcome = Outcome.UPDATED if target is not None else Outcome.CREATED
    return _record(source, digest, url, outcome, "", alert, item)


def _withdraw(
    source: CapSource, digest: str, url: str, alert: IncomingAlert, item: News
) -> CapInbound:
    if item.status == Status.PUBLISHED:
        content_archive(item=item)
        detail = _("alerte publiée archivée")
    else:
        content_delete(item=item)
        detail = _("brouillon supprimé")
    record = _record(source, digest, url, Outcome.WITHDRAWN, detail, alert)
    record.item_type, record.item_id = "news", item.pk
    record.save(update_fields=["item_type", "item_id"])
    return record


def _feed_links(body: bytes) -> list[str]:
    """The CAP documents an Atom or RSS feed links, in feed order (``application/cap+xml``
    links first, else every entry's link and enclosures)."""
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries:
        raise FetchError((_("Flux illisible : %(error)s") % {"error": parsed.bozo_exception})[:300])
    urls: list[str] = []
    for entry in parsed.entries:
        links = entry.get("links", [])
        cap_links = [link.get("href", "") for link in links if "cap" in link.get("type", "")]
        chosen = cap_links or [link.get("href", "") for link in links] or [entry.get("link", "")]
        for href in chosen:
            if href and href not in urls:
                urls.append(href)
    return urls


def cap_source_poll(*, source: CapSource) -> dict[str, int]:
    """Read ``source`` once: the file, or the feed and every CAP document it links that this
    source has not read yet. Failures are recorded on the source, never raised."""
    counts = {outcome: 0 for outcome in Outcome.values}
    now = timezone.now()
    try:
        body = fetch(source.url)
        if source.kind == SourceKind.FILE:
            documents = [(source.url, body)]
        else:
            seen = set(CapInbound.objects.filter(source=source).values_list("url", flat=True))
            links = [url for url in _feed_links(body) if url not in seen][:MAX_FEED_DOCUMENTS]
            documents = []
            deadline = time.monotonic() + POLL_BUDGET_S
            for url in links:
                if time.monotonic() > deadline:  # the rest waits for the next poll
                    break
                documents.append((url, fetch(url)))
    except FetchError as error:
        CapSource.objects.filter(pk=source.pk).update(last_polled_at=now, last_error=str(error))
        logger.warning("CAP source %s: %s", source.pk, error)
        return counts
    for url, document in documents:
        record = cap_document_receive(source=source, document=document, url=url)
        if record is not None:
            counts[record.outcome] += 1
    invalid = counts[Outcome.INVALID]
    CapSource.objects.filter(pk=source.pk).update(
        last_polled_at=now,
        last_ok_at=now,
        last_error=_("%(n)d document(s) invalide(s)") % {"n": invalid} if invalid else "",
    )
    return counts
