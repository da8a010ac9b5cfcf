"""Read serializers shared by the content types: references, images and the list item base.

``ContentListItemSerializer`` carries the fields every list and feed item has (architecture.md §5):
``type``, ``id``, ``title``, ``summary``, ``geometry``, ``category``, ``organization``,
``url``, ``urgency``, dates, ``image`` and — only when the request gave a point —
``distance_m``. Serializing it runs no SQL when the items come from the type's list selector
(``select_related`` of category and organization, annotations for type-specific fields).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import GeoJSONGeometryField
from apps.core.api.site_url import site_url
from apps.core.item_types import ItemType
from apps.core.models import Area, Category, Organization, PublishableContent, Urgency
from apps.core.pages import item_page_url

#: Every item type code, the path segment of its endpoints.
ITEM_TYPES = ItemType.codes()


class TextField(serializers.CharField):
    """Text that is never ``null`` in responses: a missing translation reads as ``""``."""

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)
        return "" if value is None else value


def absolute_url(path: str) -> str:
    """``path`` under the origin of absolute URLs (``SITE_URL``, or the request's: site_url.py)."""
    return site_url() + path


def item_url(item: PublishableContent) -> str:
    """The absolute API URL of an item's detail (``site_url()`` + ``/api/v1/<type>/<id>/``)."""
    return absolute_url(reverse(f"{item.type_code}-detail", args=[item.pk]))


class FieldsOnceMixin:
    """Build a read serializer's fields once per class instead of once per request.

    ``ModelSerializer.get_fields`` inspects the model for every new serializer instance (one
    per nested serializer per request: a mixed page of 20 items builds about ten), which costs
    more than serializing the items. The fields of these read serializers depend on their class
    alone, so the first instance's are kept and later instances get fresh copies (DRF's own
    way of copying declared fields). Use it only on serializers whose fields never depend on
    the instance, its context or its arguments.
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        template = cls.__dict__.get("_fields_template")
        if template is None:
            template = super().get_fields()  # type: ignore[misc]
            cls._fields_template = template  # type: ignore[attr-defined]
        return {name: copy.deepcopy(field) for name, field in template.items()}


class CategoryRefSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """A category as embedded in items: enough to label and colour a marker."""

    class Meta:
        model = Category
        fields = ("slug", "name", "colour", "icon")


class OrganizationRefSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """The publisher of an item."""

    class Meta:
        model = Organization
        fields = ("slug", "name")


class AreaRefSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """An area an item touches."""

    class Meta:
        model = Area
        fields = ("slug", "name", "kind")


class ItemImageSerializer(serializers.Serializer):
    """An item's image: absolute URL, alternative text (translated) and credit."""

    url = serializers.CharField()
    alt = TextField(allow_blank=True)
    credit = TextField(allow_blank=True)


@extend_schema_field(ItemImageSerializer(allow_null=True))
class ImageField(serializers.Field):
    """``image``, ``image_alt`` and ``image_credit`` of an item as one object, or ``null``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, item: Any) -> dict[str, str] | None:
        if not item.image:
            return None
        return {
            "url": absolute_url(item.image.url),
            "alt": item.image_alt or "",
            "credit": item.image_credit or "",
        }


@extend_schema_field({"type": "string", "enum": ITEM_TYPES})
class ItemTypeField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, item: Any) -> str:
        return item.type_code


@extend_schema_field({"type": "string", "enum": Urgency.codes()})
class UrgencyField(serializers.Field):
    """Urgency as its code (``info``, ``important``, ``alert``); writable."""

    default_error_messages = {
        "invalid": format_lazy(_("Valeurs possibles : {codes}."), codes=", ".join(Urgency.codes()))
    }

    def to_representation(self, value: int) -> str:
        return Urgency(value).code

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or data not in Urgency.codes():
            self.fail("invalid")
        return int(Urgency.from_code(data))


class ContentListItemSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    """The fields of every list and feed item; each type's serializer adds its own."""

    #: Response fields that may be absent (the schema does not list them as required).
    optional_fields: ClassVar[tuple[str, ...]] = ("distance_m",)

    type = ItemTypeField()
    title = TextField(read_only=True)
    summary = TextField(read_only=True)
    geometry = GeoJSONGeometryField(read_only=True, allow_null=True)
    category = CategoryRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    urgency = UrgencyField(read_only=True)
    image = ImageField()
    url = serializers.SerializerMethodField(help_text="The item in this API (its detail).")
    share_url = serializers.SerializerMethodField(
        help_text="The item's public web page, to share (opens the app where it is installed)."
    )
    distance_m = serializers.SerializerMethodField(
        help_text="Metres from `near` to the nearest point of the item (only with `near`)."
    )

    class Meta:
        model: type[PublishableContent] | None = None
        fields: tuple[str, ...] = (
            "type",
            "id",
            "title",
            "summary",
            "geometry",
            "category",
            "organization",
            "urgency",
            "publish_at",
            "updated_at",
            "image",
            "url",
            "share_url",
            "distance_m",
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, item: PublishableContent) -> str:
        return item_url(item)

    @extend_schema_field(OpenApiTypes.URI)
    def get_share_url(self, item: PublishableContent) -> str:
        return item_page_url(item)

    @extend_schema_field(OpenApiTypes.INT)
    def get_distance_m(self, item: PublishableContent) -> int | None:
        distance = getattr(item, "distance_m", None)
        return None if distance is None else round(distance)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data.get("distance_m") is None:
            data.pop("distance_m", None)
        return data


class ContentDetailMixin(serializers.Serializer):
    """Fields a detail adds to the list item: body, areas, expiry."""

    body = TextField(read_only=True)
    areas = AreaRefSerializer(many=True, read_only=True)

    detail_fields: ClassVar[tuple[str, ...]] = ("body", "areas", "expires_at", "created_at")


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("slug", "name", "colour", "icon", "position")


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("slug", "name", "kind", "website", "email", "phone")


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(  # type: ignore[assignment,var-annotated]
        slug_field="slug", read_only=True, allow_null=True
    )
    geometry = GeoJSONGeometryField(read_only=True)

    class Meta:
        model = Area
        fields = ("id", "slug", "name", "kind", "code", "parent", "geometry", "updated_at")
