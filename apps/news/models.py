"""News: the shared content base plus links and attachments."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.item_types import ItemType
from apps.core.models import PublishableContent, audited
from apps.news.attachments import ALLOWED_CONTENT_TYPES


class News(PublishableContent):
    """A news article; its geometry is optional (city-wide news has none)."""

    type_code = ItemType.NEWS.code

    class Meta(PublishableContent.Meta):
        verbose_name = _("actualité")
        verbose_name_plural = _("actualités")


class NewsLink(models.Model):
    """A link shown under an article (a form, a council decision, a partner's page)."""

    news = models.ForeignKey(News, on_delete=models.CASCADE, related_name="links")
    title = models.CharField(_("intitulé"), max_length=200)
    url = models.URLField(_("adresse"), max_length=500)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lien")
        verbose_name_plural = _("liens")

    def __str__(self) -> str:
        return self.title


class NewsAttachmentQuerySet(models.QuerySet):
    def safe(self) -> NewsAttachmentQuerySet:
        """Attachments whose content was recognised as a whitelisted type (``attachments``);
        rows stored before the check, or whose file failed it, have no ``content_type``."""
        return self.filter(content_type__in=ALLOWED_CONTENT_TYPES)


class NewsAttachment(models.Model):
    """A downloadable document attached to an article (PDF of a decree, a map…)."""

    news = models.ForeignKey(News, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("intitulé"), max_length=200)
    file = models.FileField(_("fichier"), upload_to="attachments/%Y/%m/")
    # Detected from the content when uploaded (apps.news.attachments); empty = not verified.
    content_type = models.CharField(_("type détecté"), max_length=100, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = NewsAttachmentQuerySet.as_manager()
    history = audited()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")

    def __str__(self) -> str:
        return self.title
