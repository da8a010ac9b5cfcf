"""Settings of the benchmarks: production settings, the bench city, throttles out of the way.

Everything comes from ``backend.settings`` (so ``DATABASE_URL``, ``CACHE_URL`` and
``RECOMMENDER_MODEL_DIR`` are read from the environment as in production). On top: the bench
city (``bench.city``: the ``bench_city`` command and the ``/api/v1/diagnostics/`` reference
endpoints, which production neither installs nor routes), and throttle rates raised, because
the load generator sends thousands of requests a minute from one IP.
"""

from backend.settings import *  # noqa: F403
from backend.settings import INSTALLED_APPS, REST_FRAMEWORK

INSTALLED_APPS = [*INSTALLED_APPS, "bench.city"]
ROOT_URLCONF = "bench.urls"

REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/min"
)
