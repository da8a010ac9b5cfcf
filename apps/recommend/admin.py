"""Staff admin of the recommender: the online evaluation's counters and the rollbacks (read-only).

Staff see them with Django's view permission on the model (superusers always); nobody adds,
changes or deletes a row here: the nightly task writes them (``services.online_evaluation_daily``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin.permissions import ReadOnlyMixin
from apps.recommend.engine.interleaving import BETTER, WORSE, Comparison
from apps.recommend.models import OnlineComparison, RankerRollback
from apps.recommend.selectors import online_comparison, online_result
from apps.recommend.store import ModelStore

VERDICTS = {
    BETTER: _("meilleur que la référence"),
    WORSE: _("moins bon que la référence"),
}


def verdict_text(c: Comparison) -> str:
    if c.verdict in VERDICTS:
        return str(VERDICTS[c.verdict])
    if c.decided < c.min_comparisons:
        return gettext("pas encore assez de comparaisons (%(n)d sur %(min)d)") % {
            "n": c.decided,
            "min": c.min_comparisons,
        }
    return gettext("pas de différence significative")


def percent(value: float) -> str:
    return f"{100 * value:.1f} %".replace(".", ",")


@admin.register(OnlineComparison)
class OnlineComparisonAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "day",
        "ranker",
        "reference",
        "impressions",
        "outcomes",
        "win_rate",
        "interval",
        "verdict",
    ]
    date_hierarchy = "day"
    list_per_page = 60

    @admin.display(description=_("victoires / défaites / égalités"))
    def outcomes(self, obj: OnlineComparison) -> str:
        return f"{obj.wins} / {obj.losses} / {obj.ties}"

    @admin.display(description=_("part de victoires"))
    def win_rate(self, obj: OnlineComparison) -> str:
        c = online_comparison(obj)
        return percent(c.win_rate) if c.decided else "—"

    @admin.display(description=_("intervalle de confiance"))
    def interval(self, obj: OnlineComparison) -> str:
        c = online_comparison(obj)
        return f"{percent(c.ci_low)} à {percent(c.ci_high)}" if c.decided else "—"

    @admin.display(description=_("p-valeur"))
    def p_value(self, obj: OnlineComparison) -> str:
        c = online_comparison(obj)
        return f"{c.p_value:.2g}".replace(".", ",") if c.decided else "—"

    @admin.display(description=_("verdict du jour"))
    def verdict(self, obj: OnlineComparison) -> str:
        return verdict_text(online_comparison(obj))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        results = [
            {
                "result": result,
                "win_rate": percent(result.comparison.win_rate),
                "low": percent(result.comparison.ci_low),
                "high": percent(result.comparison.ci_high),
                "p_value": f"{result.comparison.p_value:.2g}".replace(".", ","),
                "verdict": verdict_text(result.comparison),
                "worse": result.comparison.verdict == WORSE,
            }
            for result in online_result()
        ]
        store = ModelStore()
        served = store.load()
        context = {
            "online_results": results,
            "window_days": settings.ONLINE_EVAL_WINDOW_DAYS,
            "confidence": percent(1 - settings.ONLINE_EVAL_ALPHA),
            "share": percent(settings.FEED_INTERLEAVING_SHARE),
            "reference": settings.FEED_INTERLEAVING_REFERENCE,
            "min_comparisons": settings.ONLINE_EVAL_MIN_COMPARISONS,
            "served": getattr(served, "version", "stage1"),
            "fallback_reason": getattr(served, "fallback_reason", ""),
            "rollbacks": RankerRollback.objects.all()[:5],
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)  # type: ignore[return-value]


ROLLBACK_FIELDS = ["at", "version", "reference", "restored", "wins", "losses", "ties", "p_value"]


@admin.register(RankerRollback)
class RankerRollbackAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [*ROLLBACK_FIELDS]
    fields = [*ROLLBACK_FIELDS, "reason"]
    readonly_fields = [*ROLLBACK_FIELDS, "reason"]
