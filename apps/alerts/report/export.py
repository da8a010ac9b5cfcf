"""The delivery report as CSV, as a chart (matplotlib, PNG) and as PDF (reportlab).

Only the figures as shown (masked and rounded) leave the server; the chart is the share of
the targeted devices handed over against the seconds since the publication.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from apps.alerts.report.figures import PERCENTILES, AlertReport


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def report_title(report: AlertReport) -> str:
    notification = report.notification
    title = notification.text_for("fr")["title"]
    return _("Rapport de diffusion : %(title)s") % {"title": title}


def report_csv(report: AlertReport) -> bytes:
    """One ``section;label;value`` row per figure, then the timeline (UTF-8 with BOM, ``;``:
    what a French spreadsheet opens as is)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("section"), _("libellé"), _("valeur")])
    writer.writerow(["alerte", _("titre"), report.notification.text_for("fr")["title"]])
    writer.writerow(
        ["alerte", _("exercice"), _("oui") if report.notification.exercise else _("non")]
    )
    writer.writerow(["alerte", _("publiée le"), _local(report.started_at)])
    writer.writerow(["alerte", _("première remise"), _local(report.first_sent_at)])
    writer.writerow(["alerte", _("dernière remise"), _local(report.last_sent_at)])
    for row in report.rows():
        writer.writerow(list(row))
    for seconds, share in report.timeline:
        writer.writerow(["timeline", f"{seconds:.0f} s", f"{share:.0f} %"])
    return ("\ufeff" + out.getvalue()).encode()


def report_chart(report: AlertReport) -> bytes:
    """The share handed over against time, with the 50/90/99/100 % marks (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2), dpi=100)
    axes = figure.add_subplot()
    if report.timeline:
        xs = [0.0] + [x for x, _y in report.timeline]
        ys = [0.0] + [y for _x, y in report.timeline]
        axes.step(xs, ys, where="post", color="#c62828")
    for p in PERCENTILES:
        at = report.reached_s[p]
        if at is not None:
            axes.axvline(at, color="#999999", linewidth=0.6, linestyle=":")
            axes.annotate(f"{p} %", (at, min(p, 100)), fontsize=7, color="#555555")
    axes.set_ylim(0, 105)
    axes.set_xlabel(_("secondes depuis la publication"))
    axes.set_ylabel(_("% des appareils ciblés remis à FCM"))
    if not report.timeline:
        axes.text(
            0.5, 0.5, _("Courbe non affichée (audience trop petite)"), ha="center",
            transform=axes.transAxes, fontsize=9, color="#555555",
        )  # fmt: skip
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report_pdf(report: AlertReport) -> bytes:
    """The report on one A4 page: title, figures, times, the chart."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=report_title(report))
    styles = getSampleStyleSheet()
    story = [Paragraph(report_title(report), styles["Title"])]
    if report.notification.exercise:
        story.append(
            Paragraph(
                _("EXERCICE : alerte d'exercice, appareils de test seuls."), styles["Heading3"]
            )
        )
    story.append(
        Paragraph(
            _("Publiée le %(at)s ; première remise %(first)s ; dernière remise %(last)s.")
            % {
                "at": _local(report.started_at),
                "first": _local(report.first_sent_at) or "—",
                "last": _local(report.last_sent_at) or "—",
            },
            styles["Normal"],
        )
    )
    story.append(Spacer(1, 0.4 * cm))
    data = [[label, value] for _section, label, value in report.rows()]
    table = Table(data, colWidths=[11 * cm, 5 * cm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
            ]
        )
    )
    story += [table, Spacer(1, 0.4 * cm)]
    story.append(Image(io.BytesIO(report_chart(report)), width=17 * cm, height=7.8 * cm))
    story.append(
        Paragraph(
            _("Comptes arrondis à 5 et masqués sous 5 appareils, comme partout (docs/privacy.md)."),
            styles["Italic"],
        )
    )
    document.build(story)
    return buffer.getvalue()
