"""Settings of the feed benchmark's web processes: production settings, throttles out of the way.

Everything comes from ``backend.settings`` (so ``DATABASE_URL``, ``CACHE_URL`` and
``RECOMMENDER_MODEL_DIR`` are read from the environment as in production); only the throttle
rates are raised, because the load generator sends thousands of requests a minute from one IP.
"""

from backend.settings import *  # noqa: F403
from backend.settings import REST_FRAMEWORK

REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/min"
)
