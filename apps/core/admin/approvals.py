"""The two-person rule in the admin: the approval box on an item, its decisions, the request list.

On the change form of a content item, ``ApprovalAdminMixin`` shows the item's pending request
(who asked, why, when) with *Approuver* and *Refuser* (a reason is required) for a validator
who did not ask, and the item's history of requests, approvals and refusals. The buttons post
the change form to ``<item>/approval/approve/`` or ``…/refuse/`` (``formaction``), which call
``apps.core.approvals``; nothing else of the form is saved by them. ``ApprovalRequestAdmin``
is the list validators work from ("Demandes de validation"), scoped to their organizations.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin.lists import FittingListMixin, short_datetime
from apps.core.admin.permissions import ReadOnlyMixin, organization_ids
from apps.core.approval_rule import approval_pending, is_validator, reasons_text
from apps.core.approvals import (
    REFUSAL_REASON_MAX,
    approval_approve,
    approval_history,
    approval_refuse,
)
from apps.core.models import ApprovalRequest, ApprovalState, Status
from apps.core.registry import content_models


def approval_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    """What the change form shows of the two-person rule for ``obj`` (empty on the add form)."""
    if obj is None or obj.pk is None:
        return {}
    history = approval_history(obj)
    pending = next((r for r in history if r.state == ApprovalState.PENDING), None)
    user = request.user
    may_decide = (
        pending is not None
        and pending.requested_by_id != user.pk
        and is_validator(user, obj.organization_id)
    )
    opts = obj._meta
    decide = f"admin:{opts.app_label}_{opts.model_name}_approval"
    return {
        "approval_approve_url": reverse(decide, args=[obj.pk, "approve"]),
        "approval_refuse_url": reverse(decide, args=[obj.pk, "refuse"]),
        "approval_pending": pending,
        "approval_pending_reasons": reasons_text(pending.reasons) if pending else "",
        "approval_may_decide": may_decide,
        "approval_own_request": pending is not None and pending.requested_by_id == user.pk,
        "approval_history": [(r, reasons_text(r.reasons)) for r in history],
        "approval_reason_max": REFUSAL_REASON_MAX,
    }


class ApprovalAdminMixin:
    """ModelAdmin mixin for content: the approve / refuse views behind the change form's box."""

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}"
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        own = [
            path(
                "<path:object_id>/approval/<str:decision>/",
                wrap(self.approval_decide_view),
                name=f"{name}_approval",
            ),
        ]
        return own + super().get_urls()  # type: ignore[misc]

    def approval_decide_view(
        self, request: HttpRequest, object_id: str, decision: str
    ) -> HttpResponse:
        """Approve or refuse the item's pending request (POST only), then back to the item."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if decision not in ("approve", "refuse"):
            raise PermissionDenied
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]  # 404 outside scope
        if not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        opts = self.model._meta  # type: ignore[attr-defined]
        back = HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )
        pending = approval_pending(obj)
        if pending is None:
            messages.error(request, _("Ce contenu n'attend pas de validation."))
            return back
        try:
            if decision == "approve":
                item = approval_approve(request=pending, user=request.user)
                done = (
                    _("Demande approuvée : « %(item)s » est programmé.")
                    if item.status == Status.SCHEDULED
                    else _("Demande approuvée : « %(item)s » est publié.")
                )
            else:
                approval_refuse(
                    request=pending,
                    user=request.user,
                    reason=request.POST.get("refusal_reason", ""),
                )
                done = _("Demande refusée : « %(item)s » reste en brouillon.")
        except (ValidationError, PermissionDenied) as exc:
            reasons = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            messages.error(request, " ".join(reasons))
            return back
        self.log_change(request, obj, str(done % {"item": obj}))  # type: ignore[attr-defined]
        messages.success(request, done % {"item": obj})
        return back


def _scoped(queryset: Any, user: Any) -> Any:
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(organization_id__in=organization_ids(user))


REQUEST_FIELDS = (
    "item_link",
    "organization",
    "action",
    "publish_at",
    "reasons_shown",
    "requested_by",
    "requested_at",
    "state",
    "decided_by",
    "decided_at",
    "refusal_reason",
)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(FittingListMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The requests of the user's organizations, pending first; read-only (decide on the item).

    The list fits a 1366 px screen like the content lists (``FittingListMixin``).
    """

    list_display = [
        "item_link",
        "organization",
        "reasons_shown",
        "requested_by",
        "requested_at_short",
        "state",
        "decided_by",
        "decided_at_short",
    ]
    list_filter = ["state", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization", "requested_by", "decided_by"]
    search_fields = ["item_title"]
    list_per_page = 50
    fields = REQUEST_FIELDS
    readonly_fields = REQUEST_FIELDS

    requested_at_short = short_datetime("requested_at", _("demandée le"))
    decided_at_short = short_datetime("decided_at", _("décidée le"))

    def get_queryset(self, request: HttpRequest) -> Any:
        return _scoped(super().get_queryset(request), request.user)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        from django.http import Http404

        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # Validators open this list to work: pending requests unless they filter otherwise.
        if not any(key.startswith("state") for key in request.GET) and "q" not in request.GET:
            query = request.GET.copy()
            query["state__exact"] = ApprovalState.PENDING
            request.GET = query  # type: ignore[assignment]
            request.META["QUERY_STRING"] = query.urlencode()
        return super().changelist_view(request, extra_context)

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or organization_ids(user)))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        user = request.user
        return obj is None or user.is_superuser or obj.organization_id in organization_ids(user)

    @admin.display(description=_("contenu"), ordering="item_title")
    def item_link(self, obj: ApprovalRequest) -> str:
        model = content_models().get(obj.item_type)
        if model is None:
            return obj.item_title
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.item_id])
        return format_html('<a href="{}">{}</a>', url, obj.item_title)

    @admin.display(description=_("motif de la validation"))
    def reasons_shown(self, obj: ApprovalRequest) -> str:
        return reasons_text(obj.reasons)
