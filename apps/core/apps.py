"""App configuration for the shared core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Référentiel")

    def ready(self) -> None:
        # The API key admin lives in its own module (apps/core/admin.py is the staff workflow).
        from apps.core import (
            admin_api_keys,  # noqa: F401
            checks,  # noqa: F401 - registers the production start-up checks
            receivers,  # noqa: F401 - connects signal receivers
            tasks,  # noqa: F401 - registers the tasks found by name (fragments' re-render)
        )
        from apps.core.audit import actors  # noqa: F401 - who acted, on every history row
