"""An organisation's dashboard in the admin (issue 16, item 6): per week, the items it
published, the pushes sent about them, their reach and the opens by category, as charts.

Organisation-scoped: an editor chooses among their organisations (the first by default), a
superuser among all; another organisation answers 404, a bad parameter 400. Device counts go
through ``apps.core.disclosure`` (each week on its own; the opens of a category over the
period with its weeks, related), the items published are exact (items, not residents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin.charts import Chart, bars_chart, columns_chart
from apps.core.disclosure import BASE, Cell, K, Relation, Shown, count_show, disclose, keys_combined
from apps.core.item_types import ItemType
from apps.core.models import Organization
from apps.notifications.admin.access import can_view_notifications, organization_scope
from apps.notifications.dashboard import DEFAULT_WEEKS, MAX_WEEKS, WeekFigures, organization_weeks


class DashboardForm(forms.Form):
    """The page's parameters (GET): which organisation, how many weeks."""

    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=Organization.objects.none(), required=False
    )
    weeks = forms.IntegerField(
        label=gettext_lazy("Semaines"), min_value=1, max_value=MAX_WEEKS, required=False
    )

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]


def _week_label(week: WeekFigures) -> str:
    iso = week.monday.isocalendar()
    return _("S%(week)02d (%(monday)s)") % {
        "week": iso.week,
        "monday": date_format(week.monday, "j b"),
    }


@dataclass
class Dashboard:
    charts: list[Chart]
    #: The opens by week and category, as shown: column names, then ``(week, values)``.
    categories: list[str]
    weekly_opens: list[tuple[str, list[str]]]


def dashboard_charts(weeks: list[WeekFigures]) -> Dashboard:
    """The dashboard's four charts, and the table of the opens by week and category."""
    labels = [_week_label(w) for w in weeks]
    published = [
        Shown(sum(w.published.values())) for w in weeks
    ]  # items: exact counts, nothing to hide
    details = ", ".join(str(t.title) for t in ItemType)
    charts = [
        columns_chart(
            chart_id="chart-published",
            title=_("Contenus publiés"),
            summary=_("Contenus publiés par semaine (%(types)s). Total : %(total)s.")
            % {"types": details, "total": Shown(sum(s.value or 0 for s in published))},
            bars=list(zip(labels, published, strict=True)),
            label_header=_("Semaine"),
            value_header=_("Contenus publiés"),
        ),
        columns_chart(
            chart_id="chart-pushes",
            title=_("Notifications envoyées"),
            summary=_(
                "Notifications remises au service d'envoi, une par appareil et par "
                "notification, à propos des contenus de l'organisation, par semaine."
            ),
            bars=[(label, count_show(w.pushes)) for label, w in zip(labels, weeks, strict=True)],
            label_header=_("Semaine"),
            value_header=_("Notifications envoyées"),
        ),
        columns_chart(
            chart_id="chart-reach",
            title=_("Appareils atteints"),
            summary=_("Appareils différents ayant reçu au moins une notification, par semaine."),
            bars=[(label, count_show(w.reach)) for label, w in zip(labels, weeks, strict=True)],
            label_header=_("Semaine"),
            value_header=_("Appareils atteints"),
        ),
    ]
    categories = sorted({name for w in weeks for name in w.opens})
    cells: dict[str, Cell] = {}
    relations = []
    for c, name in enumerate(categories):
        parts = []
        for i, week in enumerate(weeks):
            cells[f"{c}:{i}"] = week.opens[name]
            parts.append(f"{c}:{i}")
        cells[f"{c}"] = Cell(
            sum(cells[p].count for p in parts), keys_combined(cells[p].key for p in parts)
        )
        relations.append(Relation(f"{c}", tuple(parts)))
    shown = disclose(cells, relations)
    names = [name or _("Sans catégorie") for name in categories]
    charts.append(
        bars_chart(
            chart_id="chart-opens",
            title=_("Ouvertures par catégorie"),
            summary=_(
                "Ouvertures depuis la notification (tous les habitants, sans savoir qui), des "
                "notifications des %(n)d semaines, par catégorie du contenu."
            )
            % {"n": len(weeks)},
            bars=[(names[c], shown[f"{c}"]) for c in range(len(categories))],
            label_header=_("Catégorie"),
            value_header=_("Ouvertures"),
        )
    )
    weekly = [
        (labels[i], [str(shown[f"{c}:{i}"]) for c in range(len(categories))])
        for i in range(len(weeks))
    ]
    return Dashboard(charts, names, weekly)


def dashboard_view(request: HttpRequest, admin_site: Any) -> HttpResponse:
    """The dashboard of one organisation (the form's), for the last ``weeks`` weeks."""
    if not can_view_notifications(request.user):
        raise PermissionDenied
    scope = organization_scope(request.user)
    organizations = Organization.objects.order_by("name")
    if scope is not None:
        organizations = organizations.filter(pk__in=scope)
    form = DashboardForm(request.GET or None, organizations=organizations)
    if request.GET and not form.is_valid():
        if "organization" in form.errors and request.GET.get("organization", "").isdigit():
            raise Http404  # another organisation's: as if it did not exist
        return HttpResponseBadRequest(
            "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    data = form.cleaned_data if form.is_bound else {}
    organization = data.get("organization") or organizations.first()
    weeks = data.get("weeks") or DEFAULT_WEEKS
    if not form.is_bound:  # show what is shown: the default organisation and weeks
        form = DashboardForm(
            initial={"organization": organization, "weeks": weeks}, organizations=organizations
        )
    dashboard = None
    if organization is not None:
        dashboard = dashboard_charts(organization_weeks(organization.pk, weeks=weeks))
    context = {
        **admin_site.each_context(request),
        "title": _("Tableau de bord de l'organisation"),
        "form": form,
        "organization": organization,
        "weeks": weeks,
        "dashboard": dashboard,
        "small_count": K,
        "base": BASE,
        "choose": organizations.count() > 1,
    }
    return TemplateResponse(request, "admin/notifications/dashboard.html", context)
