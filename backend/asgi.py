"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_asgi_application()

# ASGI servers run no system checks: refuse a default secret key or a silent push backend here.
from apps.core.checks import enforce_production_settings  # noqa: E402

enforce_production_settings()
