"""Serializers of news: list item, detail, and the publishing body."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import (
    ContentDetailMixin,
    ContentListItemSerializer,
    TextField,
    absolute_url,
)
from apps.core.api.writes import ContentWriteSerializer, text
from apps.news.models import News, NewsAttachment, NewsLink


class NewsListItemSerializer(ContentListItemSerializer):
    """A news article in lists and feeds."""

    class Meta(ContentListItemSerializer.Meta):
        model = News


class NewsLinkSerializer(serializers.ModelSerializer):
    title = TextField()

    class Meta:
        model = NewsLink
        fields = ("title", "url")


class NewsAttachmentSerializer(serializers.ModelSerializer):
    title = TextField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = NewsAttachment
        fields = ("title", "url")

    def get_url(self, attachment: NewsAttachment) -> str:
        return absolute_url(attachment.file.url)


class NewsDetailSerializer(ContentDetailMixin, NewsListItemSerializer):
    """A news article with its body, areas, links and attachments."""

    links = NewsLinkSerializer(many=True, read_only=True)
    attachments = NewsAttachmentSerializer(many=True, read_only=True)

    class Meta(NewsListItemSerializer.Meta):
        fields = (
            *NewsListItemSerializer.Meta.fields,
            *ContentDetailMixin.detail_fields,
            "links",
            "attachments",
        )


class NewsLinkWriteSerializer(serializers.Serializer):
    title_fr = text(200, required=True)
    title_en = text(200)
    url = serializers.URLField(max_length=500)


class NewsWriteSerializer(ContentWriteSerializer):
    """Publishing body of a news article: the shared fields plus ``links`` (replaced whole)."""

    links = NewsLinkWriteSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=50
    )
