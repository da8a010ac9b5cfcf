"""``GET /api/v1/{news|works|events}/{id}/related/``: items related to one, explained.

Up to ``RELATED_ITEMS`` public items (``apps.recommend.related``: nearby, same organiser,
similar text), each rendered as in the lists (the pre-rendered fragments) plus ``reasons``.
Three queries with warm fragments: the item, the related refs (one ``UNION ALL``), their
versions. Not kept in the shared response cache: an answer is never older than the request,
so an item that expired a second ago is never offered. ETag and ``If-None-Match`` work.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.conditional import not_modified, set_validators
from apps.core.api.fragments import (
    FRAGMENTS_HEADER,
    RenderedItem,
    encode_json,
    fragments_header,
    items_render,
)
from apps.core.api.items import list_item_serializer
from apps.core.api.params import KnownQueryParams
from apps.core.api.renderers import SplicedJSON, SplicingJSONRenderer
from apps.core.api.throttles import PublicReadThrottle
from apps.core.api.viewsets import MAX_ID
from apps.core.item_types import ITEM_TYPES
from apps.core.registry import content_models
from apps.recommend.related import REASON_CODES, reason_text
from apps.recommend.related import related_items as find_related
from apps.residents.api.schema import error_responses


class RelatedReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=list(REASON_CODES),
        help_text="`nearby`, `same_organization` or `similar_text`.",
    )
    text = serializers.CharField(help_text="In the request's language: '300 m away'.")


@cache
def related_item_serializer(type_code: str) -> type[serializers.Serializer]:
    """The list item serializer of ``type_code`` plus ``reasons`` (schema only)."""
    base: Any = list_item_serializer(type_code)
    meta = type("Meta", (base.Meta,), {"fields": (*base.Meta.fields, "reasons")})
    return type(
        f"{type_code.title()}RelatedItemSerializer",
        (base,),
        {
            "__module__": __name__,
            "__doc__": f"A related {type_code} item: its list fields and why it is related.",
            "Meta": meta,
            "reasons": RelatedReasonSerializer(
                many=True, read_only=True, help_text="Why it is related (1 or 2)."
            ),
        },
    )


def related_json(
    item: Any, *, request: Request | None = None
) -> tuple[list[bytes], list[RenderedItem | None]]:
    """The JSON of each item related to ``item``, in order, with its ``reasons``; and the
    rendered fragments (for ``X-Fragments``)."""
    related = find_related(item)
    language = translation.get_language() or "fr"
    rendered = items_render(
        [(r.type_code, r.id) for r in related], language=language, request=request
    )
    out = []
    for entry, item_json in zip(related, rendered, strict=True):
        if item_json is None:  # left the public set between the two reads
            continue
        reasons = [
            {"code": code, "text": reason_text(code, entry, item_json.organization_name, language)}
            for code in entry.reasons
        ]
        out.append(item_json.json(extra=encode_json({"reasons": reasons})[1:-1]))
    return out, rendered


class RelatedView(KnownQueryParams, APIView):
    """Items related to a public item: nearby, same organiser, similar text."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicReadThrottle]
    renderer_classes = [SplicingJSONRenderer]
    query_params_allowed = frozenset({"format"})
    type_code = ""

    @extend_schema(
        summary="Related items",
        description=(
            "Up to 4 public items related to this one (any type): nearby, same organiser, "
            "similar text, each with `reasons`. Never an expired, finished or unpublished item, "
            "never the item itself. 404 when the item is not public."
        ),
        responses={
            200: inline_serializer(
                "RelatedItems",
                {
                    "results": PolymorphicProxySerializer(
                        component_name="RelatedItem",
                        serializers={code: related_item_serializer(code) for code in ITEM_TYPES},
                        resource_type_field_name="type",
                        many=True,
                    )
                },
            ),
            **error_responses(404, 429),
        },
    )
    def get(self, request: Request, pk: int) -> Any:
        if pk > MAX_ID:
            raise Http404
        model = content_models()[self.type_code]
        item = (
            model.objects.public()
            .filter(pk=pk)
            .only(
                "id",
                "geometry",
                "organization_id",
                *(f"{f}_{lang}" for f in ("title", "summary") for lang in ("fr", "en")),
            )
            .first()
        )
        if item is None:
            raise Http404
        items, rendered = related_json(item, request=request)
        body = b'{"results":[' + b",".join(items) + b"]}"
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        response: Any = not_modified(request, etag=etag, last_modified=None)
        if response is None:
            response = Response(SplicedJSON(body))
            response[FRAGMENTS_HEADER] = fragments_header(rendered)
        set_validators(response, etag=etag, last_modified=None)
        response["Vary"] = "Accept-Language"
        return response
