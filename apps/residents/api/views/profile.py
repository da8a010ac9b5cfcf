"""What a device chooses: places, followed interests, saved items (all scoped to the caller)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.pagination import ListPagination
from apps.core.item_types import ITEM_TYPES
from apps.residents.api.schema import error_responses
from apps.residents.api.serializers import (
    InterestsSerializer,
    PlaceSerializer,
    PlaceWriteSerializer,
    SavedItemInputSerializer,
    SavedItemSerializer,
)
from apps.residents.api.views.base import ResidentAPIView, no_store
from apps.residents.models import PLACES_MAX, Place, SavedItem
from apps.residents.selectors import (
    device_interests,
    device_places,
    device_saved_items,
    saved_items_public_content,
)
from apps.residents.services import (
    interests_set,
    place_create,
    place_delete,
    place_update,
    saved_item_add,
    saved_item_remove,
)

TAGS = ["residents"]
PLACE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Place id.")


class PlaceListView(ResidentAPIView):
    @extend_schema(
        operation_id="me_places_list",
        summary="List my places",
        description=f"At most {PLACES_MAX} places, oldest first (not paginated).",
        responses={200: PlaceSerializer(many=True), **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        places = device_places(device=self.device)
        return no_store(Response(PlaceSerializer(places, many=True).data))

    @extend_schema(
        operation_id="me_places_create",
        summary="Add a place",
        description=f"At most {PLACES_MAX} per device. The location is stored rounded to "
        "0.001° (about 100 m; never more than 79 m away) and returned rounded.",
        request=PlaceWriteSerializer,
        responses={201: PlaceSerializer, **error_responses(400, 401, 413, 415, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        serializer = PlaceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        place = place_create(device=self.device, **serializer.validated_data)
        return no_store(Response(PlaceSerializer(place).data, status=status.HTTP_201_CREATED))


class PlaceDetailView(ResidentAPIView):
    def get_place(self, pk: int) -> Place:
        place = device_places(device=self.device).filter(pk=pk).first()
        if place is None:
            raise NotFound()
        return place

    @extend_schema(
        operation_id="me_places_retrieve",
        summary="Read one of my places",
        parameters=[PLACE_ID],
        responses={200: PlaceSerializer, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return no_store(Response(PlaceSerializer(self.get_place(pk)).data))

    def _write(self, request: Request, pk: int, partial: bool) -> Response:
        place = self.get_place(pk)
        serializer = PlaceWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        place = place_update(place=place, changes=dict(serializer.validated_data))
        return no_store(Response(PlaceSerializer(place).data))

    @extend_schema(
        operation_id="me_places_replace",
        summary="Replace one of my places",
        parameters=[PLACE_ID],
        request=PlaceWriteSerializer,
        responses={200: PlaceSerializer, **error_responses(400, 401, 404, 413, 415, 429)},
        tags=TAGS,
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._write(request, pk, partial=False)

    @extend_schema(
        operation_id="me_places_update",
        summary="Change one of my places",
        parameters=[PLACE_ID],
        request=PlaceWriteSerializer(partial=True),
        responses={200: PlaceSerializer, **error_responses(400, 401, 404, 413, 415, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._write(request, pk, partial=True)

    @extend_schema(
        operation_id="me_places_delete",
        summary="Delete one of my places",
        parameters=[PLACE_ID],
        responses={204: None, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int) -> Response:
        place_delete(place=self.get_place(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InterestsView(ResidentAPIView):
    @extend_schema(
        operation_id="me_interests_retrieve",
        summary="What I follow",
        responses={200: InterestsSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        interests = device_interests(device=self.device)
        return no_store(Response(InterestsSerializer(interests).data))

    @extend_schema(
        operation_id="me_interests_replace",
        summary="Replace what I follow",
        description="Slugs from /categories/, /areas/ and /organizations/; all three lists are "
        "required (send [] for none). An unknown slug is a 400 and changes nothing.",
        request=InterestsSerializer,
        responses={200: InterestsSerializer, **error_responses(400, 401, 413, 415, 429)},
        tags=TAGS,
    )
    def put(self, request: Request) -> Response:
        serializer = InterestsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interests_set(device=self.device, **serializer.validated_data)
        interests = device_interests(device=self.device)
        return no_store(Response(InterestsSerializer(interests).data))


class SavedItemListView(ResidentAPIView, GenericAPIView):
    pagination_class = ListPagination
    query_params_allowed = frozenset({"page", "page_size"})
    serializer_class = SavedItemSerializer
    queryset = SavedItem.objects.none()  # the schema generator's view; requests use the device

    def get_queryset(self) -> Any:
        return device_saved_items(device=self.device)

    @extend_schema(
        operation_id="me_saved_list",
        summary="List my saved items",
        description="Newest first. Items that are no longer public stay listed with "
        "`available: false` and `title: null`.",
        responses={200: SavedItemSerializer(many=True), **error_responses(400, 401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        items = saved_items_public_content(page)
        data = SavedItemSerializer(page, many=True, context={"items": items}).data
        return no_store(self.get_paginated_response(data))

    @extend_schema(
        operation_id="me_saved_create",
        summary="Save an item",
        description="Only public items can be saved (else 400). Saving twice is harmless: "
        "201 the first time, 200 after.",
        request=SavedItemInputSerializer,
        responses={
            201: SavedItemSerializer,
            200: SavedItemSerializer,
            **error_responses(400, 401, 413, 415, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        serializer = SavedItemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved, created = saved_item_add(
            device=self.device, item_type=data["type"], item_id=data["id"]
        )
        items = saved_items_public_content([saved])
        body = SavedItemSerializer(saved, context={"items": items}).data
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return no_store(Response(body, status=code))


class SavedItemDetailView(ResidentAPIView):
    parameters = [
        OpenApiParameter(
            "type", str, OpenApiParameter.PATH, enum=list(ITEM_TYPES), description="Item type."
        ),
        OpenApiParameter("id", int, OpenApiParameter.PATH, description="Item id."),
    ]

    def get_saved(self, item_type: str, item_id: int) -> SavedItem:
        if item_type not in ITEM_TYPES:
            raise NotFound()
        saved = device_saved_items(device=self.device).filter(item_type=item_type, item_id=item_id)
        found = saved.first()
        if found is None:
            raise NotFound()
        return found

    @extend_schema(
        operation_id="me_saved_retrieve",
        summary="Is this item saved?",
        parameters=parameters,
        responses={200: SavedItemSerializer, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, type: str, id: int) -> Response:
        saved = self.get_saved(type, id)
        items = saved_items_public_content([saved])
        return no_store(Response(SavedItemSerializer(saved, context={"items": items}).data))

    @extend_schema(
        operation_id="me_saved_delete",
        summary="Unsave an item",
        parameters=parameters,
        responses={204: None, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request, type: str, id: int) -> Response:
        saved_item_remove(saved=self.get_saved(type, id))
        return Response(status=status.HTTP_204_NO_CONTENT)
