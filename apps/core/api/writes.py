"""The publishing body shared by news, works and events (POST/PATCH), and its validation.

Translated text travels as flat fields named like the columns: ``title_fr`` (required when
creating), ``title_en`` (optional; readers fall back to French), ``summary_fr``… ``category``
and ``organization`` are slugs; ``geometry`` is a GeoJSON geometry or ``null`` (city-wide);
``status`` asks for a lifecycle step: ``draft``, ``scheduled`` (with a future ``publish_at``),
``published`` (now) or ``archived``. The response is the same shape, as stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import GeoJSONGeometryField
from apps.core.api.serializers import ItemTypeField, TextField, UrgencyField, item_url
from apps.core.models import Category, Organization, PublishableContent, Status
from apps.core.pages import item_page_url

#: Dates outside these years are typing mistakes (and overflow time zone arithmetic).
MIN_YEAR, MAX_YEAR = 1970, 2200
#: Longest accepted body text, in characters.
MAX_BODY_LENGTH = 50_000


def check_year(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise serializers.ValidationError(
            _("Les dates sont comprises entre %(a)d et %(b)d.") % {"a": MIN_YEAR, "b": MAX_YEAR}
        )
    return value


class SafeDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time within plausible years; never an overflow error."""

    def to_internal_value(self, value: Any) -> datetime:
        try:
            parsed = super().to_internal_value(value)
        except (OverflowError, ValueError):
            raise serializers.ValidationError(_("Date et heure invalides.")) from None
        return check_year(parsed)


class BodyTextField(TextField):
    """Body text: ``null`` is accepted and stored as ``""`` (no translation)."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and self.allow_null:
            return True, ""
        return super().validate_empty_values(data)


def text(max_length: int, *, required: bool = False) -> serializers.CharField:
    """A text field of the body; ``null`` reads as ``""``, responses never carry ``null``."""
    return BodyTextField(
        max_length=max_length,
        required=required,
        allow_blank=not required,
        allow_null=not required,
    )


class ContentWriteSerializer(serializers.Serializer):
    """Fields every content type accepts; each type's serializer adds its own."""

    id = serializers.IntegerField(read_only=True)
    type = ItemTypeField()
    url = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField(
        help_text="The item's public web page (404 until it is published)."
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        help_text=(
            "Lifecycle step to take: `draft` (withdraw), `scheduled` (needs a future "
            "`publish_at`), `published` (now), `archived`. New items start as drafts."
        ),
    )
    title_fr = text(200, required=True)
    title_en = text(200)
    summary_fr = text(500)
    summary_en = text(500)
    body_fr = text(MAX_BODY_LENGTH)
    body_en = text(MAX_BODY_LENGTH)
    image_alt_fr = text(250)
    image_alt_en = text(250)
    image_credit = text(200)
    category: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all()
    )
    organization = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organization.objects.all(),
        required=False,
        help_text=(
            "Publisher slug. Implied by an API key; required for staff who belong to several "
            "organizations."
        ),
    )
    geometry = GeoJSONGeometryField(
        required=False,
        allow_null=True,
        help_text="GeoJSON geometry in WGS 84 lon/lat, without `crs`; `null` for city-wide.",
    )
    publish_at = SafeDateTimeField(required=False, allow_null=True)
    expires_at = SafeDateTimeField(required=False, allow_null=True)
    urgency = UrgencyField(required=False)
    notify = serializers.BooleanField(required=False)
    published_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, item: PublishableContent) -> str:
        return item_url(item)

    @extend_schema_field(OpenApiTypes.URI)
    def get_share_url(self, item: PublishableContent) -> str:
        return item_page_url(item)

    def current(self, attrs: dict[str, Any], name: str) -> Any:
        """The value ``name`` will have: from the body, else from the stored item."""
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        publish_at, expires_at = (
            self.current(attrs, "publish_at"),
            self.current(attrs, "expires_at"),
        )
        errors: dict[str, str] = {}
        if publish_at and expires_at and expires_at <= publish_at:
            errors["expires_at"] = _("L'expiration doit suivre la publication.")
        status = attrs.get("status")
        now = timezone.now()
        if status == Status.SCHEDULED and (publish_at is None or publish_at <= now):
            errors["publish_at"] = _("Programmer demande une date « publish_at » à venir.")
        if status == Status.PUBLISHED and attrs.get("publish_at") and attrs["publish_at"] > now:
            errors["status"] = _("Pour publier plus tard, utilisez le statut « scheduled ».")
        if expires_at and expires_at <= now and status in (Status.PUBLISHED, Status.SCHEDULED):
            errors["expires_at"] = _("Ce contenu serait déjà expiré.")
        errors.update(self.validate_type(attrs))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def validate_type(self, attrs: dict[str, Any]) -> dict[str, str]:
        """Rules of the content type across fields; ``{field: message}``."""
        return {}

    def check_range(
        self, attrs: dict[str, Any], start: str, end: str, errors: dict[str, str]
    ) -> None:
        first, last = self.current(attrs, start), self.current(attrs, end)
        if first and last and last < first:
            errors[end] = _("« %(end)s » ne doit pas précéder « %(start)s ».") % {
                "end": end,
                "start": start,
            }
