"""Test settings: PostGIS by default, a SpatiaLite alias for cross-backend tests, eager Celery."""

import os

# Tests always run on PostGIS (architecture.md §1); TEST_DATABASE_URL picks another server or name.
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "postgis:///quartier")
# Tasks run eagerly unless a test starts a real worker with its own broker settings.
os.environ["CELERY_BROKER_URL"] = ""

from .settings import *  # noqa: F403
from .settings import DATABASES, INSTALLED_APPS, VAR_DIR

# The bench city (tests/benchcity), installed and routed as in bench/settings.py, never in
# production.
INSTALLED_APPS = [*INSTALLED_APPS, "bench.city"]
ROOT_URLCONF = "bench.urls"

# Cross-backend tests (geo helper, embedded mode) ask for this alias explicitly.
DATABASES["spatialite"] = {
    "ENGINE": "django.contrib.gis.db.backends.spatialite",
    "NAME": str(VAR_DIR / "test-spatialite.sqlite3"),
    "TEST": {"NAME": str(VAR_DIR / "test-spatialite-test.sqlite3")},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PUSH_BACKEND = "log"
# DEBUG is off here as in production: a key that passes the start-up checks (apps/core/checks).
SECRET_KEY = "tests-only-secret-key-" + "quartier-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
MEDIA_ROOT = str(VAR_DIR / "test-media")
RECOMMENDER_MODEL_DIR = str(VAR_DIR / "test-models")
# Tests read their own writes: the item index is rebuilt in the request that finds it stale.
FEED_INDEX_BACKGROUND = False
# Feeds in tests are deterministic; the online evaluation's tests turn interleaving on.
FEED_INTERLEAVING_SHARE = 0.0
ERASURE_LOG_PATH = str(VAR_DIR / "test-erasures.jsonl")
