"""WSGI entry point (gunicorn backend.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse a default secret key or a silent push backend here.
from apps.core.checks import enforce_production_settings  # noqa: E402

enforce_production_settings()
