"""The content types by API code (``news``, ``works``, ``events``), found from the app registry."""

from __future__ import annotations

from functools import cache

from django.apps import apps

from apps.core.models import PublishableContent


@cache
def content_models() -> dict[str, type[PublishableContent]]:
    """Every concrete content model, keyed by its ``type_code``, in a stable order."""
    found = {
        model.type_code: model
        for model in apps.get_models()
        if issubclass(model, PublishableContent)
    }
    return dict(sorted(found.items()))


def content_type_codes() -> list[str]:
    return list(content_models())


def model_for(type_code: str) -> type[PublishableContent]:
    """The model for an API type code; ``KeyError`` for an unknown one."""
    return content_models()[type_code]
