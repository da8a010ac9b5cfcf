"""The one ViewSet behind ``/api/v1/news/``, ``/works/`` and ``/events/`` (architecture.md §5).

Reads list and show public items only (the type's selectors), filtered by its FilterSet, as
JSON or GeoJSON, with ETag/Last-Modified validators and 304s. Writes (POST, PATCH, DELETE)
take an API key or a staff session, stay inside the caller's organizations, and go through
the type's ``*_apply`` service, which owns every rule: a new item is saved as a draft, then
``status`` applies a lifecycle step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.db.models import Count, Max, Min, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import response_cache
from apps.core.api import schema as _schema  # noqa: F401  (registers the OpenAPI extensions)
from apps.core.api.accelerated import list_accelerated, list_accelerated_reads
from apps.core.api.auth import OrganizationApiKeyAuthentication
from apps.core.api.conditional import etag_for, not_modified, set_validators
from apps.core.api.fragments import (
    FRAGMENTS_HEADER,
    ItemVersion,
    RenderedItem,
    encode_json,
    fragment_generations,
    fragments_header,
    render_detail,
    render_rows,
)
from apps.core.api.items import PageRows
from apps.core.api.pagination import ListPagination
from apps.core.api.params import KnownQueryParams
from apps.core.api.permissions import CanPublishContent, acting_user, publishing_organizations
from apps.core.api.renderers import (
    GeoJSONRenderer,
    JsonErrorsMixin,
    SplicedJSON,
    SplicingJSONRenderer,
    StrictFormatNegotiation,
)
from apps.core.api.throttles import PublicReadThrottle, PublishingThrottle
from apps.core.models import Organization, OrganizationApiKey, PublishableContent, Tombstone
from apps.core.services import content_delete

#: Largest id PostgreSQL's bigint holds: anything above is simply not found.
MAX_ID = 2**63 - 1


class ContentViewSet(KnownQueryParams, JsonErrorsMixin, viewsets.GenericViewSet):
    """Subclasses set the model, serializers, filterset and selectors of one content type."""

    model: ClassVar[type[PublishableContent]]
    list_serializer_class: ClassVar[Any]
    detail_serializer_class: ClassVar[Any]
    write_serializer_class: ClassVar[Any]
    #: Public items with what the list serializer reads (select_related, annotations).
    list_selector: ClassVar[Callable[[], QuerySet]]
    #: Public items with what the detail serializer reads (prefetches too).
    detail_selector: ClassVar[Callable[[], QuerySet]]
    #: The type's write service (``news_apply``…), and the name of its item keyword.
    apply_service: ClassVar[Callable[..., PublishableContent]]
    apply_item: ClassVar[str]

    lookup_value_regex = r"[0-9]+"
    authentication_classes = [OrganizationApiKeyAuthentication, SessionAuthentication]
    permission_classes = [CanPublishContent]
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [SplicingJSONRenderer, GeoJSONRenderer]
    content_negotiation_class = StrictFormatNegotiation
    pagination_class = ListPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filtered_actions: ClassVar[tuple[str, ...]] = ("list",)
    #: Columns whose earliest value in a response's items is when that response changes by
    #: time alone (an item expires or ends); the response cache keeps it until then at most.
    boundary_fields: ClassVar[tuple[str, ...]] = ("expires_at",)
    #: With the FilterSet's filters (and pages on ``list``): every other parameter is a 400.
    query_params_allowed = frozenset({"format"})

    # --- plumbing -------------------------------------------------------------------------

    def query_params_checked(self) -> bool:
        # The filtered actions, with pages (ListPagination): the iCalendar feed has no pages
        # but takes the list's query, ``page_size`` included.
        return getattr(self, "action", None) in self.filtered_actions

    def cache_keys_read_first(self, request: Request) -> list[str]:
        """A list's first cache reads (the response cache's, the accelerators'), which the
        throttle reads in its round trip (``apps.core.api.throttles``)."""
        if self.action != "list":
            return []
        keys = [
            *response_cache.lookup_keys(request, scope=self.model.type_code),
            *list_accelerated_reads(self, request),
        ]
        return list(dict.fromkeys(keys))

    def get_throttles(self) -> list[Any]:
        if self.request is not None and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            return [PublishingThrottle()]
        return [PublicReadThrottle()]

    def get_renderers(self) -> list[Any]:
        if getattr(self, "action", None) in ("create", "partial_update", "destroy"):
            return [JSONRenderer()]  # the publishing body is JSON only
        return super().get_renderers()

    def get_queryset(self) -> QuerySet:
        if self.action in self.filtered_actions:
            return type(self).list_selector()
        if self.action == "retrieve":
            return type(self).detail_selector()
        return self._writable_or_public()

    def _writable_or_public(self) -> QuerySet:
        """Items a write may find: the caller's own, and other organizations' public ones.

        Another organization's draft, scheduled or archived item does not exist for the caller
        (404, as for the public), so its id reveals nothing; a public one is found and then
        refused (403) by ``CanPublishContent``: its existence is no secret.
        """
        items = self.model.objects.select_related("category", "organization")
        user = self.request.user
        if not isinstance(self.request.auth, OrganizationApiKey) and user.is_superuser:
            return items
        return items.filter(
            Q(organization__in=publishing_organizations(self.request))
            | Q(pk__in=self.model.objects.public().values("pk"))
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action in self.filtered_actions:
            return super().filter_queryset(queryset)
        return queryset

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "partial_update", "update", "destroy"):
            return self.write_serializer_class
        if self.action == "retrieve":
            return self.detail_serializer_class
        return self.list_serializer_class

    def pk_from_url(self) -> int:
        pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if pk > MAX_ID:
            raise Http404
        return pk

    def get_object(self) -> Any:
        self.kwargs[self.lookup_field] = self.pk_from_url()
        return super().get_object()

    # --- reads ----------------------------------------------------------------------------

    def version_aggregates(self) -> dict[str, Any]:
        """What the response body depends on, as aggregates (types add time boundaries)."""
        return {
            "count": Count("pk"),
            "updated": Max("updated_at"),
            **{f"until_{name}": Min(name) for name in self.boundary_fields},
        }

    def changes_at(self, version: dict[str, Any]) -> Any:
        """When a response of this ``version`` changes by time alone (see ``boundary_fields``)."""
        return response_cache.changes_at(version, [f"until_{n}" for n in self.boundary_fields])

    def cached(self, response: Any, version: dict[str, Any], etag: str) -> Any:
        """Validators on ``response``, and store it in the shared cache if it may be."""
        set_validators(response, etag=etag, last_modified=version["last_modified"])
        return response_cache.store(
            self.request,
            response,
            etag=etag,
            last_modified=version["last_modified"],
            changes_at=self.changes_at(version),
        )

    def conditional(
        self, queryset: QuerySet, *, removals: bool = False
    ) -> tuple[dict[str, Any], str, Any]:
        """The version of ``queryset`` (one query), its ETag, and a 304 when it matches.

        For lists (``removals``), the last removal of this type from the public set counts as
        a modification too, so ``If-Modified-Since`` sees items that left the list.
        """
        aggregates = self.version_aggregates()
        if removals:
            last_removal = (
                Tombstone.objects.filter(item_type=self.model.type_code)
                .order_by()
                .values("item_type")
                .annotate(latest=Max("removed_at"))
                .values("latest")
            )
            aggregates["removed"] = Max(Subquery(last_removal))
        version = queryset.order_by().aggregate(**aggregates)
        moments = [version["updated"], version.get("removed")]
        version["last_modified"] = max((m for m in moments if m is not None), default=None)
        etag = etag_for(self.request, version, fmt=self.request.accepted_renderer.format)
        last_modified = version["last_modified"]
        response = not_modified(self.request, etag=etag, last_modified=last_modified)
        if response is not None:
            set_validators(response, etag=etag, last_modified=last_modified)
        return version, etag, response

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        hit = response_cache.lookup(request, scope=self.model.type_code)
        if hit is not None:
            return hit
        accelerated = list_accelerated(self, request)  # the same response, from memory
        if accelerated is not None:
            return accelerated
        queryset = self.filter_queryset(self.get_queryset())
        version, etag, cached = self.conditional(queryset, removals=True)
        if cached is not None:
            return cached
        paginator: ListPagination = self.paginator  # type: ignore[assignment]
        if self.spliced():
            return self.cached(self.list_spliced(queryset, paginator, version), version, etag)
        page = paginator.paginate_queryset(queryset, request, view=self, count=version["count"])
        serializer = self.get_serializer(page, many=True)
        return self.cached(paginator.get_paginated_response(serializer.data), version, etag)

    def spliced(self) -> bool:
        """JSON responses are spliced from pre-rendered items (GeoJSON is rendered live)."""
        return isinstance(self.request.accepted_renderer, SplicingJSONRenderer)

    def list_spliced(
        self, queryset: QuerySet, paginator: ListPagination, version: dict[str, Any]
    ) -> Response:
        """The page's rows read once; items from their fragments, the misses rendered live.

        Model instances are made only for rows whose fragment is missing or stale
        (``apps.core.api.items.PageRows``, ``apps.core.api.fragments``): same queries as a
        live page, no serialization for current fragments.
        """
        type_code = self.model.type_code
        generations = fragment_generations([type_code])  # before the rows are read
        sliced = paginator.page_queryset(queryset, self.request, view=self, count=version["count"])
        page = PageRows(sliced)
        rows = [ItemVersion(type_code, pk, at, d) for pk, at, d in page.versions()]
        rendered = render_rows(rows, page.instances, generations=generations, request=self.request)
        return self.spliced_page(paginator, version["count"], rendered)

    def spliced_page(
        self, paginator: ListPagination, count: int, rendered: Sequence[RenderedItem]
    ) -> Response:
        """The page's envelope (``count``, links) with its rendered items spliced in."""
        envelope = encode_json(
            {
                "count": count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [],
            }
        )
        items = b",".join(r.json() for r in rendered)
        response = Response(SplicedJSON(envelope[:-3] + b"[" + items + b"]}"))
        response[FRAGMENTS_HEADER] = fragments_header(rendered)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        pk = self.pk_from_url()
        hit = response_cache.lookup(request, scope=self.model.type_code)
        if hit is not None:
            return hit
        queryset = self.get_queryset().filter(pk=pk)
        version, etag, cached = self.conditional(queryset)
        if not version["count"]:
            raise Http404
        if cached is not None:
            return cached
        if self.spliced():
            rendered = render_detail(
                self.model.type_code,
                pk,
                version["updated"],
                serializer_class=self.detail_serializer_class,
                load=lambda: queryset.first(),
                request=request,
            )
            if rendered is None:  # left the public set since the version was read
                raise Http404
            response = Response(SplicedJSON(rendered.json()))
            response[FRAGMENTS_HEADER] = fragments_header([rendered])
            return self.cached(response, version, etag)
        serializer = self.get_serializer(queryset.get())
        return self.cached(Response(serializer.data), version, etag)

    # --- writes ---------------------------------------------------------------------------
    # Input serializer → organization for the request → the type's ``*_apply`` service (every
    # rule, one transaction) → output serializer.

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = self.apply(None, serializer.validated_data)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = self.apply(item, serializer.validated_data)
        return Response(self.get_serializer(item).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        content_delete(item=item, user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def apply(self, item: PublishableContent | None, validated: dict[str, Any]) -> Any:
        """Hand a validated body to the type's service, as the organization the request acts for."""
        data = dict(validated)
        organization = self.resolve_organization(data.pop("organization", None), item)
        return type(self).apply_service(
            **{self.apply_item: item},
            data=data,
            organization=organization,
            user=acting_user(self.request),
        )

    def resolve_organization(
        self, requested: Organization | None, item: PublishableContent | None
    ) -> Organization:
        """The item's organization after this write; 403 outside the caller's organizations."""
        auth = self.request.auth
        if isinstance(auth, OrganizationApiKey):
            if requested is not None and requested.pk != auth.organization_id:
                raise exceptions.PermissionDenied(
                    _("Cette clé d'API publie pour une autre organisation.")
                )
            return auth.organization
        allowed = publishing_organizations(self.request)
        if requested is not None:
            if not allowed.filter(pk=requested.pk).exists():
                raise exceptions.PermissionDenied(_("Vous ne publiez pas pour cette organisation."))
            return requested
        if item is not None:
            return item.organization
        candidates = list(allowed[:2])
        if len(candidates) == 1:
            return candidates[0]
        raise exceptions.ValidationError(
            {"organization": [_("Indiquez l'organisation qui publie ce contenu.")]}
        )
