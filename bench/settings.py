"""Settings of the benchmarks: production settings, the bench city, throttles out of the way.

Everything comes from ``backend.settings`` (so ``DATABASE_URL``, ``CACHE_URL`` and
``RECOMMENDER_MODEL_DIR`` are read from the environment as in production). On top: the bench
city (``bench.city``: the ``bench_city`` command and the ``/api/v1/diagnostics/`` reference
endpoints, which production neither installs nor routes), and throttle rates raised, because
the load generator sends thousands of requests a minute from one IP.
"""

import hashlib
import os

from backend.settings import *  # noqa: F403
from backend.settings import FCM_CREDENTIALS_FILE, INSTALLED_APPS, REST_FRAMEWORK

# A bench machine has no secrets to protect and no phones to reach, but runs with DEBUG off, so
# the start-up checks (apps/core/checks.py) would refuse the built-in dev key and a silent log
# backend: `make bench-city` and `make bench` get a bench-only key and the log backend unless
# the environment sets real ones. These settings are never a production configuration.
if "DJANGO_SECRET_KEY" not in os.environ:
    SECRET_KEY = "bench-only-" + hashlib.sha256(b"quartier bench city").hexdigest()
if not os.environ.get("PUSH_BACKEND") and not FCM_CREDENTIALS_FILE:
    PUSH_BACKEND = "log"

INSTALLED_APPS = [*INSTALLED_APPS, "bench.city"]
ROOT_URLCONF = "bench.urls"

REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/min"
)
