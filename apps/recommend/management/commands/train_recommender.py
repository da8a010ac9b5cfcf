"""``python manage.py train_recommender``: train stage 2 on the interaction log, save if better."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from apps.recommend.offline.training_job import DEFAULT_DAYS, TrainingResult, recommender_train


def render(result: TrainingResult) -> str:
    """A short report: outcome, data sizes and the validation metrics of each ranker."""
    lines = [
        f"Outcome: {result.reason}" + (f" (version {result.version})" if result.version else ""),
        f"Interactions read: {result.interactions}; {result.seconds:.1f} s",
    ]
    if result.data:
        lines.append("Data: " + ", ".join(f"{k} {v}" for k, v in result.data.items()))
    if result.metrics:
        lines += [
            "",
            "Validation on the held-out days:",
            "",
            "| ranker | AUC | nDCG@10 | rows | positives |",
            "|---|---|---|---|---|",
        ]
        served = {"model": f"stage 2 ({result.kind})"}
        for name, m in result.metrics.items():
            lines.append(
                f"| {served.get(name, name)} | {m.get('auc', float('nan')):.3f} "
                f"| {m.get('ndcg@10', float('nan')):.3f} | {m.get('rows', 0):.0f} "
                f"| {m.get('positives', 0):.0f} |"
            )
    if result.gate:
        lines += [
            "",
            f"Serving gate: {'passed' if result.gate.get('passed') else 'refused'} "
            f"({result.gate.get('reason')})",
            "",
            "| population | requests | stage 2 | stage 1 | nearest-first | checked |",
            "|---|---|---|---|---|---|",
        ]
        for check in result.gate.get("checks", []):
            cells = [
                "-" if check[k] is None else f"{check[k]:.3f}"
                for k in ("model", "stage1", "nearest")
            ]
            checked = ("yes" if check["passed"] else "**lost**") if check["checked"] else "no"
            lines.append(
                f"| {check['segment']} | {check['requests']} | "
                + " | ".join(cells)
                + f" | {checked} |"
            )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Train the stage 2 ranker on the last days of the interaction log (devices that accept "
        "personalization) and serve it if it beats stage 1 on the held-out days; otherwise the "
        "current model (or stage 1) stays."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=DEFAULT_DAYS, help="days of the log to read"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--no-boosting",
            action="store_true",
            help="fit the logistic regression only (faster)",
        )

    def handle(self, *args, **options) -> None:
        result = recommender_train(
            days=options["days"], seed=options["seed"], try_boosting=not options["no_boosting"]
        )
        self.stdout.write(render(result))
