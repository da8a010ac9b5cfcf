"""Periodic tasks of the core: the content lifecycle tick."""

from celery import shared_task

from apps.core.services import content_lifecycle_run


@shared_task(acks_late=True, ignore_result=True)
def content_lifecycle_tick() -> dict[str, int]:
    """Publish due scheduled items and archive expired ones (beat, every minute)."""
    return content_lifecycle_run()


@shared_task(acks_late=True, ignore_result=True)
def fragments_render(type_codes: list[str] | None = None) -> int:
    """Render public items' JSON again (after a taxonomy rename or a venue edit)."""
    from apps.core.api.fragments import fragments_render_all

    return fragments_render_all(type_codes=type_codes)


@shared_task(acks_late=True, ignore_result=True)
def fragments_render_items(type_code: str, ids: list[int]) -> int:
    """Render the JSON of items just published or edited (those still public, in every
    language), so that their first readers are served pre-rendered items."""
    from apps.core.api.fragments import fragments_render_items as render

    return render(type_code, ids)
