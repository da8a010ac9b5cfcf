"""Admin of public alerts: CAP sources and what they sent, the CAP messages we published, the
test devices of drills, and the delivery report of each alert (live while it is sent)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.alerts.models import AlertReport, CapInbound, CapMessage, CapSource
from apps.alerts.report.export import report_chart, report_csv, report_pdf, report_title
from apps.alerts.report.figures import alert_report
from apps.alerts.services import cap_source_poll
from apps.core.admin.permissions import ReadOnlyMixin, is_editor, organization_ids
from apps.core.disclosure import BASE, K
from apps.core.models import Urgency
from apps.notifications.models import Kind, Notification
from apps.notifications.selectors import notifications_of_organizations
from apps.residents.models import DrillEnrolment
from apps.residents.services import drill_enrol, drill_unenrol

#: The live view reloads this often while deliveries are in flight.
LIVE_REFRESH_S = 3


@admin.register(CapSource)
class CapSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "active", "last_polled_at", "last_ok_at", "last_error")
    list_filter = ("active", "kind")
    search_fields = ("name", "url")
    readonly_fields = ("last_polled_at", "last_ok_at", "last_error")
    actions = ("poll_now",)

    @admin.action(description=_("Lire maintenant les sources sélectionnées"))
    def poll_now(self, request: HttpRequest, queryset: QuerySet[CapSource]) -> None:
        for source in queryset.filter(active=True)[:20]:
            counts = cap_source_poll(source=source)
            self.message_user(
                request,
                _(
                    "%(name)s : %(created)d brouillon(s), %(updated)d mise(s) à jour, "
                    "%(withdrawn)d retrait(s), %(invalid)d invalide(s)."
                )
                % {"name": source.name, **counts},
                messages.WARNING if counts["invalid"] else messages.SUCCESS,
            )


@admin.register(CapInbound)
class CapInboundAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "sender", "identifier", "msg_type", "outcome", "item")
    list_filter = ("outcome", "msg_type", "source")
    search_fields = ("identifier", "sender", "headline")
    list_select_related = ("source",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("contenu"))
    def item(self, obj: CapInbound) -> str:
        if obj.item_id is None or obj.item_type != "news":
            return "—"
        url = reverse("admin:news_news_change", args=[obj.item_id])
        return format_html('<a href="{}">{} {}</a>', url, _("actualité"), obj.item_id)


@admin.register(CapMessage)
class CapMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: a published CAP message is part of the public record."""

    list_display = ("sent_at", "msg_type", "status", "headline", "document_link")
    list_filter = ("msg_type", "status")
    search_fields = ("identifier", "headline")
    exclude = ("document",)

    @admin.display(description=_("document CAP"))
    def document_link(self, obj: CapMessage) -> str:
        url = reverse("alerts-cap-message", args=[obj.identifier])
        return format_html('<a href="{}">{}</a>', url, obj.identifier)


class DrillEnrolmentForm(forms.ModelForm):
    code = forms.CharField(
        label=_("code affiché par l'application"),
        max_length=20,
        help_text=_("Dans l'application : Profil, Appareil de test, « Afficher mon code »."),
    )

    class Meta:
        model = DrillEnrolment
        fields = ("label",)


@admin.register(DrillEnrolment)
class DrillEnrolmentAdmin(admin.ModelAdmin):
    """The test devices: drills reach them and nobody else. Enrol a phone with the code it
    shows; take it out by deleting its line."""

    list_display = ("__str__", "platform", "enrolled_at", "enrolled_by")
    list_select_related = ("device", "enrolled_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DrillEnrolment]:
        return super().get_queryset(request).filter(enrolled_at__isnull=False)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = DrillEnrolmentForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None):
        return ["code", "label"] if obj is None else ["label", "enrolled_at", "enrolled_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return [] if obj is None else ["enrolled_at", "enrolled_by"]

    @admin.display(description=_("plateforme"))
    def platform(self, obj: DrillEnrolment) -> str:
        return obj.device.get_platform_display()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["label"])
            return
        try:
            enrolled = drill_enrol(
                code=form.cleaned_data["code"], user=request.user, label=obj.label
            )
        except ValidationError as error:
            raise PermissionDenied(error.messages[0]) from None
        obj.pk, obj.device_id = enrolled.pk, enrolled.device_id

    def delete_model(self, request: HttpRequest, obj: DrillEnrolment) -> None:
        drill_unenrol(device=obj.device)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DrillEnrolment]) -> None:
        for enrolment in queryset.select_related("device"):
            drill_unenrol(device=enrolment.device)


def _can_view_reports(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and (user.is_superuser or is_editor(user)))


@admin.register(AlertReport)
class AlertReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Every alert's notification (publication, update, drill), opened as its report."""

    list_display = ("title", "exercise", "kind", "created_at")
    list_filter = ("exercise", "kind")
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = AlertReport.objects.filter(
            urgency=Urgency.ALERT, kind__in=[Kind.NEW, Kind.UPDATE]
        )
        user = request.user
        if not user.is_superuser:
            visible = notifications_of_organizations(organization_ids(user)).values("pk")
            rows = rows.filter(pk__in=visible)
        return rows.order_by("-created_at", "-id")

    @admin.display(description=_("alerte"))
    def title(self, obj: Notification) -> str:
        return obj.text_for("fr")["title"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _can_view_reports(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view_reports(request.user)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/csv/", view(self.csv_view), name="alerts_alertreport_csv"),
            path("<int:pk>/pdf/", view(self.pdf_view), name="alerts_alertreport_pdf"),
            path("<int:pk>/chart.png", view(self.chart_view), name="alerts_alertreport_chart"),
            *super().get_urls(),
        ]

    def _report(self, request: HttpRequest, pk: int) -> Any:
        if not self.has_view_permission(request):
            raise PermissionDenied
        notification = self.get_queryset(request).filter(pk=pk).first()
        if notification is None:
            raise Http404
        return alert_report(notification)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not object_id.isdigit():
            raise Http404
        report = self._report(request, int(object_id))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": report_title(report),
            "report": report,
            "rows": report.rows(),
            "live": report.in_flight,
            "refresh_s": LIVE_REFRESH_S,
            "small_count": K,
            "base": BASE,
        }
        return TemplateResponse(request, "admin/alerts/report.html", context)

    def csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = HttpResponse(report_csv(self._report(request, pk)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="rapport-alerte-{pk}.csv"'
        return response

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = HttpResponse(
            report_pdf(self._report(request, pk)), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="rapport-alerte-{pk}.pdf"'
        return response

    def chart_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse(report_chart(self._report(request, pk)), content_type="image/png")
