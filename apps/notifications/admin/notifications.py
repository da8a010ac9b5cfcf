"""The notifications in the admin: a read-only list and page of statistics (with charts,
``charts``), and the test push.

The list computes the statistics of the page it shows, in two queries whatever its length
(``selectors.notification_stats``); every count goes through ``apps.core.disclosure``
(``statistics_shown``), and the list shows the very values of the statistics page. Nothing
can be added, changed or deleted by hand.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _

from apps.core.admin.lists import FittingListMixin, short_datetime
from apps.core.admin.permissions import ReadOnlyMixin
from apps.core.audit.admin import AuditHistoryMixin
from apps.core.disclosure import BASE, MASK, K, disclose
from apps.core.item_types import ItemType
from apps.core.registry import content_models
from apps.notifications import services
from apps.notifications.admin.access import (
    can_send_test_push,
    can_view_notifications,
    visible_notifications,
)
from apps.notifications.admin.charts import notification_charts
from apps.notifications.admin.dashboard import dashboard_view
from apps.notifications.models import (
    Delivery,
    DeliveryStatus,
    Kind,
    Notification,
    Reason,
)
from apps.notifications.selectors import (
    FAILED_REASONS,
    SKIPPED_REASONS,
    NotificationStats,
    notification_stats,
    stats_cells,
)
from apps.residents.models import Device

#: The largest id PostgreSQL's bigint holds: a larger one cannot name a device.
MAX_DEVICE_ID = 2**63 - 1
#: Test pushes one staff member may send in an hour: enough to check a few phones, too few to
#: walk the device ids pushing strangers' phones.
TEST_PUSH_PER_HOUR = 20


def item_admin_url(item_type: str, item_id: int) -> str | None:
    """The admin change page of a content item, or None for an unknown type."""
    model = content_models().get(item_type)
    if model is None:
        return None
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[item_id])


def statistics_shown(notification: Notification, stats: NotificationStats) -> dict[str, str]:
    """Every count of one notification as staff see it, by cell name (``targeted``, a status
    of ``STATUS_CELLS``, ``opened``, ``reason_<r>``), through ``apps.core.disclosure`` with
    the relations between them (targeted = statuses, failed and skipped = their reasons,
    opened within sent). A test push (one phone the sender chose) shows its counts as is."""
    cells, relations = stats_cells(stats)
    if notification.kind == Kind.TEST:
        return {name: str(cell.count) for name, cell in cells.items()}
    return {name: str(value) for name, value in disclose(cells, relations).items()}


def statistics_rows(notification: Notification, stats: NotificationStats) -> list[Any]:
    """``(label, value, indented)`` rows of the statistics table of one notification. The
    reasons of a shown total are all listed (a row only for the reasons that occurred would
    tell that they did); none under a masked one."""
    shown = statistics_shown(notification, stats)
    exact = notification.kind == Kind.TEST

    def reasons(total: str, which: tuple[Reason, ...]) -> list[Any]:
        if exact:
            return [(label, str(n), True) for label, n in stats.reasons(which)]
        if shown[total] == str(MASK):
            return []
        return [(r.label, shown[f"reason_{r}"], True) for r in which]

    rows: list[Any] = [
        (_("Appareils ciblés"), shown["targeted"], False),
        (_("Envoyées"), shown["sent"], False),
        (_("Ouvertes depuis la notification"), shown.get("opened", "—"), False),
        (_("Retenues (heures calmes, en attente)"), shown["held"], False),
        (_("En attente ou en cours d'envoi"), shown["in_flight"], False),
        (_("Non envoyées"), shown["skipped"], False),
    ]
    rows += reasons("skipped", SKIPPED_REASONS)
    rows.append((_("Échecs"), shown["failed"], False))
    rows += reasons("failed", FAILED_REASONS)
    return rows


class NotificationChangeList(ChangeList):
    """Attaches ``stats`` to each notification of the page (two queries for the page)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        page = list(self.result_list)
        stats = notification_stats(page)
        for notification in page:
            notification.stats = stats[notification.pk]


@admin.register(Notification)
class NotificationAdmin(AuditHistoryMixin, FittingListMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: the list with its counts, and one notification's statistics."""

    list_display = [
        "created_at_short",
        "kind",
        "title",
        "item_link",
        "urgency",
        "targeted_count",
        "sent_count",
        "failed_count",
        "held_count",
        "capped_count",
        "opened_count",
    ]
    list_display_links = ["created_at_short"]
    created_at_short = short_datetime("created_at", _("créée le"))
    list_filter = ["kind", "urgency", "item_type", ("created_at", admin.DateFieldListFilter)]
    list_per_page = 50
    fields = (
        "kind",
        "item_link",
        "urgency",
        "title_fr",
        "body_fr",
        "title_en",
        "body_en",
        "created_at",
        "sent_by",
    )
    readonly_fields = fields
    change_list_template = "admin/notifications/notification/change_list.html"
    change_form_template = "admin/notifications/notification/change_form.html"

    # --- rights ---------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return visible_notifications(request.user).select_related("created_by")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404  # another organization's notification: as if it did not exist
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_notifications(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_notifications(request.user)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return NotificationChangeList

    # --- columns --------------------------------------------------------------------------
    @admin.display(description=_("titre"))
    def title(self, obj: Notification) -> str:
        return obj.text_for("fr")["title"]

    @admin.display(description=_("contenu"))
    def item_link(self, obj: Notification) -> str:
        if not obj.item_type or obj.item_id is None:
            return "—"
        label = f"{ItemType.from_code(obj.item_type).title} n° {obj.item_id}"
        url = item_admin_url(obj.item_type, obj.item_id)
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description=_("titre (fr)"))
    def title_fr(self, obj: Notification) -> str:
        return obj.texts.get("fr", {}).get("title", "")

    @admin.display(description=_("texte (fr)"))
    def body_fr(self, obj: Notification) -> str:
        return obj.texts.get("fr", {}).get("body", "")

    @admin.display(description=_("titre (en)"))
    def title_en(self, obj: Notification) -> str:
        return obj.texts.get("en", {}).get("title", "") or "—"

    @admin.display(description=_("texte (en)"))
    def body_en(self, obj: Notification) -> str:
        return obj.texts.get("en", {}).get("body", "") or "—"

    @admin.display(description=_("envoyée par"))
    def sent_by(self, obj: Notification) -> str:
        """The staff member who sent a test push; the pipeline sends the others."""
        return obj.created_by.get_username() if obj.created_by else str(_("envoi automatique"))

    @staticmethod
    def _stats(obj: Notification) -> NotificationStats:
        stats = getattr(obj, "stats", None)
        if stats is None:  # outside the change list: compute for this one
            stats = obj.stats = notification_stats([obj])[obj.pk]  # type: ignore[attr-defined]
        return stats

    @classmethod
    def _shown(cls, obj: Notification) -> dict[str, str]:
        """The counts as the statistics page shows them: the list shows the same values."""
        shown = getattr(obj, "stats_shown", None)
        if shown is None:
            shown = obj.stats_shown = statistics_shown(obj, cls._stats(obj))  # type: ignore[attr-defined]
        return shown

    @admin.display(description=_("ciblés"))
    def targeted_count(self, obj: Notification) -> str:
        return self._shown(obj)["targeted"]

    @admin.display(description=_("envoyées"))
    def sent_count(self, obj: Notification) -> str:
        return self._shown(obj)["sent"]

    @admin.display(description=_("échecs"))
    def failed_count(self, obj: Notification) -> str:
        return self._shown(obj)["failed"]

    @admin.display(description=_("retenues"))
    def held_count(self, obj: Notification) -> str:
        return self._shown(obj)["held"]

    @admin.display(description=_("plafonnées"))
    def capped_count(self, obj: Notification) -> str:
        return self._shown(obj)[f"reason_{Reason.CAPPED}"]

    @admin.display(description=_("ouvertes"))
    def opened_count(self, obj: Notification) -> str:
        return self._shown(obj).get("opened", "—")

    # --- pages ----------------------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_send_test_push": can_send_test_push(request.user),
            "small_count": K,
            "base": BASE,
        }
        return super().changelist_view(request, extra_context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            context["statistics"] = statistics_rows(obj, self._stats(obj))
            if obj.kind != Kind.TEST:  # one phone the sender chose: nothing to chart
                context["charts"] = notification_charts(obj, self._stats(obj))
            context["small_count"] = K
            context["base"] = BASE
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        own = [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name=f"{opts.app_label}_{opts.model_name}_dashboard",
            ),
            path(
                "test-push/",
                self.admin_site.admin_view(self.test_push_view),
                name=f"{opts.app_label}_{opts.model_name}_test_push",
            ),
        ]
        return own + super().get_urls()

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        return dashboard_view(request, self.admin_site)

    def test_push_view(self, request: HttpRequest) -> HttpResponse:
        """Send the test push to the device typed in the form, at once; report the outcome."""
        if not can_send_test_push(request.user):
            raise PermissionDenied
        form = TestPushForm(request.POST if request.method == "POST" else None, user=request.user)
        if request.method == "POST" and form.is_valid():
            device: Device = form.cleaned_data["device"]
            delivery = services.device_test_push(device=device, user=request.user)
            delivery.refresh_from_db()
            report_test_push(request, delivery)
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Envoyer une notification de test"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/notifications/test_push.html", context)


class TestPushForm(forms.Form):
    """The device to push to. Any device the push cannot reach (unknown id, no live token,
    notifications turned off) gets one and the same answer: the form is no oracle of which ids
    exist or of what a resident chose in the app."""

    device = forms.IntegerField(
        label=_("Identifiant de l'appareil"),
        min_value=1,
        max_value=MAX_DEVICE_ID,
        help_text=_(
            "Le numéro que l'application a reçu à son enregistrement (champ « id »). "
            "La notification part tout de suite, même pendant les heures calmes."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        since = timezone_now() - timedelta(hours=1)
        sent = Notification.objects.filter(
            kind=Kind.TEST, created_by=self.user, created_at__gte=since
        ).count()
        if sent >= TEST_PUSH_PER_HOUR:
            raise ValidationError(
                _(
                    "Vous avez envoyé %(n)d notifications de test depuis une heure : "
                    "réessayez plus tard."
                ),
                code="too_many",
                params={"n": sent},
            )
        return super().clean() or {}

    def clean_device(self) -> Device:
        # One query whatever the reason, so that the time taken tells nothing either.
        device = Device.objects.pushable().filter(pk=self.cleaned_data["device"]).first()
        if device is None:
            raise ValidationError(
                _(
                    "Aucun appareil joignable n'a cet identifiant : vérifiez le numéro, et que "
                    "l'application est ouverte sur le téléphone, avec les notifications "
                    "activées."
                ),
                code="unreachable",
            )
        return device


def report_test_push(request: HttpRequest, delivery: Delivery) -> None:
    """One message saying what became of a test push."""
    values = {
        "device": delivery.device_id,
        "reason": delivery.get_reason_display(),
        "code": delivery.error_code or "—",
    }
    if delivery.status == DeliveryStatus.SENT:
        messages.success(
            request, _("Notification de test envoyée à l'appareil %(device)s.") % values
        )
    elif delivery.status == DeliveryStatus.FAILED:
        messages.error(
            request,
            _("Échec de l'envoi à l'appareil %(device)s : %(reason)s (code %(code)s).") % values,
        )
    elif delivery.status == DeliveryStatus.SKIPPED:
        messages.warning(
            request, _("Notification non envoyée à l'appareil %(device)s : %(reason)s.") % values
        )
    elif delivery.status == DeliveryStatus.PENDING and delivery.not_before:
        values["at"] = date_format(localtime(delivery.not_before), "H:i:s")
        messages.warning(
            request,
            _(
                "Erreur temporaire du service de notification : nouvelle tentative vers "
                "l'appareil %(device)s à %(at)s."
            )
            % values,
        )
    else:
        messages.info(
            request,
            _("Notification de test vers l'appareil %(device)s : %(status)s.")
            % {**values, "status": delivery.get_status_display()},
        )
