"""Public CAP routes: the Atom feed of our alerts and each CAP message at its own URL."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.alerts.cap.atom import FeedEntry, atom_feed
from apps.alerts.models import CapMessage
from apps.alerts.outgoing import cap_sender
from apps.alerts.selectors import feed_messages
from apps.core.api.conditional import etag_for, not_modified, set_validators
from apps.core.api.params import KnownQueryParams
from apps.core.api.schema import ErrorSerializer, RawResponseSchema
from apps.core.api.throttles import PublicReadThrottle

ATOM_EXAMPLE = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>https://ville.example/api/v1/feeds/alerts.cap.atom</id>
  <title>Alertes de la ville</title>
  <updated>2026-12-07T10:00:00+00:00</updated>
  <entry>
    <id>urn:cap:ville.example:news-12-0a1b2c3d4e5f</id>
    <title>Crue de la Saône : quais fermés</title>
    <updated>2026-12-07T10:00:00+00:00</updated>
    <link rel="alternate" type="application/cap+xml"
      href="https://ville.example/api/v1/feeds/alerts/news-12-0a1b2c3d4e5f.cap"/>
  </entry>
</feed>"""


class _PublicXmlView(KnownQueryParams, APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = (PublicReadThrottle,)
    query_params_allowed = frozenset()


class AlertsAtomFeedView(_PublicXmlView):
    @extend_schema(
        operation_id="feeds_alerts_cap_atom",
        summary="Public alerts as an Atom feed of CAP 1.2 messages",
        description="One entry per alert in force (urgency `alert`, and `important` when the "
        "city chose so), and per alert lifted in the last 24 hours (its `Cancel`). Each "
        "entry links its CAP 1.2 document (`application/cap+xml`). Drills are never listed. "
        "Register its URL with aggregators (Google Public Alerts…). docs/alerts.md.",
        tags=["feeds"],
        responses={
            (200, "application/atom+xml"): RawResponseSchema({"type": "string", "format": "xml"}),
            304: OpenApiResponse(description="Not modified (`If-None-Match` matched)."),
        },
        examples=[OpenApiExample("Feed", value=ATOM_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> HttpResponse:
        now = timezone.now()
        version = CapMessage.objects.aggregate(count=Count("pk"), last=Max("sent_at"))
        version["hour"] = now.strftime("%Y-%m-%dT%H")  # expiries and 24-hour cancels age out
        etag = etag_for(request, version, fmt="cap-atom")
        last_modified = version["last"]
        cached = not_modified(request, etag=etag, last_modified=last_modified)
        if cached is not None:
            return set_validators(cached, etag=etag, last_modified=last_modified)  # type: ignore[return-value]
        sender = cap_sender()
        messages = list(feed_messages(now=now))
        entries = [
            FeedEntry(
                id=f"urn:cap:{message.sender}:{message.identifier}",
                title=message.headline,
                updated=message.sent_at,
                cap_url=request.build_absolute_uri(
                    reverse("alerts-cap-message", args=[message.identifier])
                ),
            )
            for message in messages
        ]
        body = atom_feed(
            entries,
            feed_id=request.build_absolute_uri(reverse("feed-alerts-cap")),
            title=f"Alertes — {settings.INTEROP_PUBLISHER or sender}",
            self_url=request.build_absolute_uri(reverse("feed-alerts-cap")),
            author=settings.INTEROP_PUBLISHER or sender,
            updated=last_modified or now,
        )
        response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
        set_validators(response, etag=etag, last_modified=last_modified)
        return response


class CapMessageView(_PublicXmlView):
    @extend_schema(
        operation_id="feeds_alerts_cap_message",
        summary="One CAP 1.2 message, as published",
        description="The CAP 1.2 `alert` document, frozen when it was sent: an update or a "
        "cancel is a new message whose `references` name the earlier ones.",
        tags=["feeds"],
        parameters=[
            OpenApiParameter(
                "identifier",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The message's CAP `identifier`.",
            )
        ],
        responses={
            (200, "application/cap+xml"): RawResponseSchema({"type": "string", "format": "xml"}),
            404: OpenApiResponse(response=ErrorSerializer, description="No such message."),
        },
    )
    def get(self, request: Request, identifier: str) -> HttpResponse:
        message = CapMessage.objects.filter(identifier=identifier).first()
        if message is None:
            raise NotFound()
        response = HttpResponse(
            message.document.encode(), content_type="application/cap+xml; charset=utf-8"
        )
        response["Cache-Control"] = "public, max-age=300"
        return response
