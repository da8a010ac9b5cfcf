"""Quartier settings: one module, driven by environment variables declared in ``SCHEMA``."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("QUARTIER_VAR_DIR", BASE_DIR / "var"))

# The typed schema of every environment variable Quartier reads: name -> (type, default).
# The README's environment table documents the same names; keep them in step.
SCHEMA: dict[str, tuple[type, object]] = {
    "DJANGO_SECRET_KEY": (str, "insecure-dev-key-change-me"),
    "DJANGO_SECRET_KEY_FALLBACKS": (list, []),
    "DJANGO_DEBUG": (bool, False),
    "DJANGO_ALLOWED_HOSTS": (list, ["127.0.0.1", "localhost"]),
    "DJANGO_CSRF_TRUSTED_ORIGINS": (list, []),
    # HTTPS behind the proxy (--- Security --- below); None: on when SITE_URL is https://.
    "DJANGO_SECURE_SSL_REDIRECT": (bool, None),
    "DJANGO_SECURE_HSTS_SECONDS": (int, None),
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": (bool, True),
    "DJANGO_SECURE_HSTS_PRELOAD": (bool, False),
    "DJANGO_SECURE_PROXY_SSL_HEADER": (bool, None),
    "DATABASE_URL": (str, ""),
    "DATABASE_CONN_MAX_AGE": (int, 60),
    "DATABASE_STATEMENT_TIMEOUT_MS": (int, 10_000),
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS": (int, 30_000),
    "CACHE_URL": (str, ""),
    "CACHE_CONNECT_TIMEOUT_S": (float, 0.25),
    "CACHE_SOCKET_TIMEOUT_S": (float, 0.5),
    "CACHE_RETRY_S": (float, 5.0),
    "CELERY_BROKER_URL": (str, ""),
    "FCM_CREDENTIALS_FILE": (str, ""),
    "FCM_ENDPOINT": (str, "https://fcm.googleapis.com"),
    "PUSH_BACKEND": (str, ""),
    "NOTIFY_MAX_ATTEMPTS": (int, 8),
    "NOTIFY_STUCK_SENDING_S": (int, 120),
    "NOTIFY_STUCK_PENDING_S": (int, 300),
    "NOTIFY_EVENT_REMINDER_LEAD_MINUTES": (int, 180),
    "NOTIFY_WORKS_REMINDER_HOUR": (int, 18),
    "NOTIFY_OPEN_WINDOW_DAYS": (int, 30),
    "RETENTION_DAYS": (int, 180),
    "DEVICE_INACTIVE_DAYS": (int, 270),
    "ERASURE_LOG_PATH": (str, str(VAR_DIR / "erasures.jsonl")),
    "API_NUM_PROXIES": (int, 0),
    "API_THROTTLE_RATES": (dict, {}),
    "API_CACHE_SECONDS": (int, 60),
    "API_FRAGMENT_SECONDS": (int, 7 * 24 * 3600),
    "RELATED_ITEMS": (int, 4),
    "RELATED_NEARBY_M": (int, 1500),
    "DB_PLAN_CACHE_MODE": (str, "auto"),
    "API_DIAGNOSTICS": (bool, False),
    "APP_CHECK_REQUIRED": (bool, False),
    "APP_CHECK_PROJECT": (str, ""),
    "APP_CHECK_JWKS_URL": (str, "https://firebaseappcheck.googleapis.com/v1/jwks"),
    "MEDIA_ROOT": (str, str(VAR_DIR / "media")),
    "STATIC_ROOT": (str, str(VAR_DIR / "static")),
    "RECOMMENDER_MODEL_DIR": (str, str(VAR_DIR / "models")),
    "FEED_ITEM_INDEX": (bool, True),
    "FEED_INDEX_BACKGROUND": (bool, True),
    "API_LIST_ACCELERATION": (bool, True),
    "FEED_INDEX_INCREMENTAL": (bool, True),
    "FEED_INDEX_REFRESH_SLACK_S": (float, 300.0),
    "FEED_INDEX_FULL_EVERY_S": (float, 900.0),
    "FEED_INTERLEAVING_SHARE": (float, 0.05),
    "FEED_INTERLEAVING_REFERENCE": (str, "nearest"),
    "ONLINE_EVAL_ALPHA": (float, 0.05),
    "ONLINE_EVAL_MIN_COMPARISONS": (int, 200),
    "ONLINE_EVAL_WINDOW_DAYS": (int, 28),
    "SITE_URL": (str, "http://127.0.0.1:8000"),
    # Dev servers reached under several names (make run HOST=0.0.0.0): absolute URLs follow
    # the request's host (apps/core/api/site_url.py).
    "SITE_URL_FROM_REQUEST": (bool, False),
    # Web apps on other origins that may call the API from a browser (django-cors-headers).
    "CORS_ALLOWED_ORIGINS": (list, []),
    "STAFF_LOGIN_FAILURE_LIMIT": (int, 5),
    # Staff e-mails (approval requests and decisions): django-environ's URL form.
    "EMAIL_URL": (str, "smtp://localhost:25"),
    "DEFAULT_FROM_EMAIL": (str, "quartier@localhost"),
    "STAFF_LOGIN_COOLOFF_MINUTES": (int, 15),
    "STAFF_SESSION_MAX_AGE_S": (int, 10 * 3600),
    "STAFF_SESSION_IDLE_S": (int, 30 * 60),
    "LOG_LEVEL": (str, "INFO"),
    "MAP_CENTER": (list, ["45.7640", "4.8357"]),
    "MAP_ZOOM": (int, 13),
    "MAP_TILES_URL": (str, "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    # Interop (docs/interop.md): the standards' schema files, the open feeds' publisher name.
    "INTEROP_STANDARDS_DIR": (str, str(BASE_DIR.parent / "shared" / "standards")),
    "INTEROP_PUBLISHER": (str, ""),
    # OpenAgenda import (docs/interop.md, "OpenAgenda"): seconds to wait for one answer.
    "OPENAGENDA_TIMEOUT_S": (float, 10.0),
    # Geocoding (docs/interop.md, "Geocoding"): backend builtin | geoplateforme | addok | off,
    # the remote endpoint (BAN-compatible /search/), its timeout, the public proxy and its rate.
    "GEOCODER_BACKEND": (str, "builtin"),
    "GEOCODER_URL": (str, "https://data.geopf.fr/geocodage"),
    "GEOCODER_TIMEOUT_S": (float, 3.0),
    "GEOCODER_API_ENABLED": (bool, False),
    "GEOCODER_API_RATE": (str, "30/min"),
    # DiaLog outbound (docs/interop.md "Linking DiaLog").
    "DIALOG_URL": (str, "https://dialog.beta.gouv.fr"),
    "DIALOG_TIMEOUT_S": (float, 10.0),
    "DIALOG_MAX_ATTEMPTS": (int, 10),
    "DIALOG_RETRY_BASE_S": (float, 2.0),
    "DIALOG_STUCK_S": (int, 300),
    # Public site (docs/interop.md, "Website"): name, caches, widget embedding, app links.
    "SITE_NAME": (str, "Quartier"),
    "SITE_CACHE_SECONDS": (int, 300),
    "SITE_EMBED_MAX_AGE_S": (int, 60),
    "SITE_WIDGET_ORIGINS": (list, []),
    "SITE_ANDROID_PACKAGE": (str, ""),
    "SITE_ANDROID_CERT_FINGERPRINTS": (list, []),
    "SITE_IOS_APP_IDS": (list, []),
    "SITE_IOS_APP_STORE_ID": (str, ""),
    # Public alerts (docs/alerts.md): CAP 1.2 out and in, alert presentation on phones.
    "CAP_SENDER": (str, ""),
    "CAP_INCLUDE_IMPORTANT": (bool, False),
    "CAP_STATUS_TEST": (bool, False),
    "CAP_POINT_RADIUS_M": (int, 200),
    "CAP_LINE_BUFFER_M": (int, 50),
    "CAP_FETCH_TIMEOUT_S": (float, 10.0),
    "CAP_FETCH_MAX_BYTES": (int, 2_000_000),
    "NOTIFY_IOS_CRITICAL_ALERTS": (bool, False),
    "NOTIFY_ANDROID_ALERT_CHANNEL": (str, ""),
}
env = environ.Env(**SCHEMA)
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

SECRET_KEY: str = env("DJANGO_SECRET_KEY")
# Earlier keys, still accepted while sessions and signed model files turn over after a rotation.
SECRET_KEY_FALLBACKS: list[str] = env("DJANGO_SECRET_KEY_FALLBACKS")
DEBUG: bool = env("DJANGO_DEBUG")
ALLOWED_HOSTS: list[str] = env("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS: list[str] = env("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL: str = env("SITE_URL").rstrip("/")
SITE_URL_FROM_REQUEST: bool = env("SITE_URL_FROM_REQUEST")
OPENAGENDA_TIMEOUT_S: float = env("OPENAGENDA_TIMEOUT_S")
GEOCODER_BACKEND: str = env("GEOCODER_BACKEND")
GEOCODER_URL: str = env("GEOCODER_URL").rstrip("/")
GEOCODER_TIMEOUT_S: float = env("GEOCODER_TIMEOUT_S")
GEOCODER_API_ENABLED: bool = env("GEOCODER_API_ENABLED")
GEOCODER_API_RATE: str = env("GEOCODER_API_RATE")

INSTALLED_APPS = [
    # modeltranslation must precede the admin so translated fields show in forms.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "leaflet",
    "django_static_jquery_ui",
    "corsheaders",
    # The audit trail (docs/privacy.md, "Audit trail"): one history table per audited model.
    "simple_history",
    "apps.core",
    "apps.news",
    "apps.works",
    "apps.events",
    "apps.demo",
    "apps.residents",
    "apps.notifications",
    "apps.recommend",
    "apps.interop",
    "apps.site",
    "apps.alerts",
]

MIDDLEWARE = [
    # First, so that every API response, errors included, carries its CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.api.site_url.RequestSiteURLMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.api.middleware.ApiBodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the audit trail records the signed-in staff user of each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL unset -> the embedded SpatiaLite file (make run). Production and tests: PostGIS.
if env("DATABASE_URL"):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.contrib.gis.db.backends.spatialite",
            "NAME": str(VAR_DIR / "quartier.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgis"):
    DATABASES["default"]["CONN_MAX_AGE"] = env("DATABASE_CONN_MAX_AGE")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: PostGIS declares its functions costly, so the estimates of ordinary
    # statements pass ``jit_above_cost`` and PostgreSQL compiles them for longer than they run
    # (many times the statement's own time on the bench city: bench/README.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    # Nothing holds a connection unbounded: PostgreSQL cancels a statement after
    # DATABASE_STATEMENT_TIMEOUT_MS (the client gets a 503, apps/core/api/unavailable.py) and
    # ends a session idle in a transaction after DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS.
    # Web processes keep the defaults; Celery workers and long commands (migrate, bench_city,
    # train_recommender) run with larger values in their own environment (docs/deploy.md).
    # 0 turns a limit off.
    options["options"] += (
        f" -c statement_timeout={env('DATABASE_STATEMENT_TIMEOUT_MS')}"
        f" -c idle_in_transaction_session_timeout={env('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS')}"
    )
SPATIALITE_LIBRARY_PATH = "mod_spatialite"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Throttling and response caching need a cache shared by all web processes in production.
# A Redis URL gets the fail-open backend (apps/core/cache.py): with Redis down or hung, reads
# are served from the database; each cache call waits at most the socket timeouts, and once it
# failed the cache is left alone for CACHE_RETRY_S seconds.


def cache_settings(url: str) -> dict[str, object]:
    """The ``CACHES`` entry of a cache URL."""
    config = dict(env.cache_url_config(url))
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "apps.core.cache.FailOpenRedisCache"
        config["OPTIONS"] = {
            **config.get("OPTIONS", {}),
            "socket_connect_timeout": env("CACHE_CONNECT_TIMEOUT_S"),
            "socket_timeout": env("CACHE_SOCKET_TIMEOUT_S"),
            "RETRY_S": env("CACHE_RETRY_S"),
        }
    return config


if env("CACHE_URL"):
    CACHES = {"default": cache_settings(env("CACHE_URL"))}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Internationalisation -------------------------------------------------------------------
# The audit trail is read-only in the admin: a "revert" would write around the services.
SIMPLE_HISTORY_REVERT_DISABLED = True
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
MODELTRANSLATION_DEFAULT_LANGUAGE = "fr"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("fr", "en"), "fr": ("en",), "en": ("fr",)}
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT")
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# Serve static files straight from the apps in the embedded mode (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Staff admin -----------------------------------------------------------------------------
# The map widget (django-leaflet: Leaflet + Leaflet.draw) and the fr/en tabs (modeltranslation,
# jQuery UI from django-static-jquery-ui) are served from our own static files, so the admin
# draws on a blank map with no internet; only the background tiles come from MAP_TILES_URL
# (empty -> no background at all).
_map_lat, _map_lon = (float(v) for v in env("MAP_CENTER"))
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (_map_lat, _map_lon),
    "DEFAULT_ZOOM": env("MAP_ZOOM"),
    "MAX_ZOOM": 19,
    "TILES": (
        [
            (
                "OpenStreetMap",
                env("MAP_TILES_URL"),
                {"attribution": "© OpenStreetMap contributors", "maxZoom": 19},
            )
        ]
        if env("MAP_TILES_URL")
        else []
    ),
    "RESET_VIEW": False,
}
JQUERY_UI_URL = "jquery-ui/jquery-ui.min.js"

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # One JSON parser for every view: orjson, bounded depth and number sizes (parsers.py).
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.QuartierAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.ListPagination",
    "EXCEPTION_HANDLER": "apps.core.api.errors.api_exception_handler",
    # Per-scope rates; views pick a scope with ScopedRateThrottle (``throttle_scope``).
    "DEFAULT_THROTTLE_RATES": {
        "anon": "1200/min",  # public reads, per IP
        "registration": "20/hour",  # device registration, per IPv4 address or IPv6 /64
        # With App Check on, the per-address limit can be loose (carrier NAT puts many phones
        # behind one address): the app attests itself instead.
        "registration_app_check": "300/hour",
        "registration_all": "300/min",  # every registration, all addresses together
        "resident": "240/min",  # /me/ routes, per device
        "interactions": "120/min",  # interaction batches, per device
        "feed": "300/min",  # feed pages, per device (per client IP for anonymous callers)
        "publishing": "600/min",  # content writes, per API key or staff user
        "geocode": GEOCODER_API_RATE,  # the geocoding proxy, per IP (docs/interop.md)
        "opens": "120/min",  # open reports from pushes, per IP (they carry no device id)
    },
    # Reverse proxies in front of the app: the client IP (registration throttle) is taken
    # that many hops from the right of X-Forwarded-For; 0 = REMOTE_ADDR (no proxy, unspoofable).
    "NUM_PROXIES": env("API_NUM_PROXIES"),
}
# API_THROTTLE_RATES overrides some of the rates above: "registration=1000/min,anon=5000/min"
# (load tests raise the registration limit this way; a deployment may tune any scope).
_rate_overrides: dict[str, str] = env("API_THROTTLE_RATES")
if set(_rate_overrides) - set(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATES: unknown scope in {sorted(_rate_overrides)}; known: "
        f"{sorted(REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])}"
    )
# A developer's emulator or phone registers again at every reinstall or wiped app data, all
# from one address: with DJANGO_DEBUG on (make run) the per-address limit is loose.
if DEBUG:
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"] = "1000/hour"
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(_rate_overrides)
# Anonymous content lists and details are cached, rendered, in CACHE_URL for at most this many
# seconds (writes invalidate them at once: apps/core/api/response_cache.py); 0 turns it off.
API_CACHE_SECONDS: int = env("API_CACHE_SECONDS")
# Pre-rendered item JSON (apps/core/api/fragments.py) lives this long in CACHE_URL unless read
# stale earlier (item version, serializer version, taxonomy generation, validity end); 0: off.
API_FRAGMENT_SECONDS: int = env("API_FRAGMENT_SECONDS")
# Related items of a detail (apps/core/related.py): how many, and how far "nearby" reaches.
RELATED_ITEMS: int = max(0, min(env("RELATED_ITEMS"), 10))
RELATED_NEARBY_M: int = max(0, min(env("RELATED_NEARBY_M"), 20_000))
# plan_cache_mode of the connections' prepared statements (apps/core/prepared.py): auto,
# force_generic_plan or force_custom_plan (bench/README.md, "Plans that stay prepared").
DB_PLAN_CACHE_MODE: str = env("DB_PLAN_CACHE_MODE")
if DB_PLAN_CACHE_MODE not in ("auto", "force_generic_plan", "force_custom_plan"):
    raise ImproperlyConfigured(
        "DB_PLAN_CACHE_MODE is auto, force_generic_plan or force_custom_plan."
    )
# /api/v1/diagnostics/…: reference endpoints for load tests (404 unless on).
API_DIAGNOSTICS: bool = env("API_DIAGNOSTICS")
# Firebase App Check on device registration (apps/residents/app_check.py): the app sends
# X-Firebase-AppCheck, a token signed by Firebase for APP_CHECK_PROJECT (its number or id, as
# in the token's "aud"); missing or invalid -> 401. The keys come from APP_CHECK_JWKS_URL.
APP_CHECK_REQUIRED: bool = env("APP_CHECK_REQUIRED")
APP_CHECK_PROJECT: str = env("APP_CHECK_PROJECT")
APP_CHECK_JWKS_URL: str = env("APP_CHECK_JWKS_URL")
if APP_CHECK_REQUIRED and not APP_CHECK_PROJECT:
    raise ImproperlyConfigured("APP_CHECK_REQUIRED needs APP_CHECK_PROJECT (the Firebase project).")
# JSON bodies of the API are small; larger declared bodies get 413 before being read.
API_MAX_BODY_BYTES = 1024 * 1024
SPECTACULAR_SETTINGS = {
    "TITLE": "Quartier API",
    "DESCRIPTION": "News, roadworks and events of the city, personalised for each resident.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Served offline: no call to the public validator.swagger.io badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums shared by several fields get one stable component name each.
    "ENUM_NAME_OVERRIDES": {
        "ItemTypeEnum": "apps.core.item_types.ITEM_TYPES",
        "UrgencyEnum": ["info", "important", "alert"],
        "PublicationStatusEnum": "apps.core.models.content.Status",
        "OrganizationKindEnum": "apps.core.models.taxonomy.Organization.Kind",
        "AreaKindEnum": "apps.core.models.taxonomy.AreaKind",
        "HealthStatusEnum": ["ok", "degraded", "unavailable"],
        "PlaceLabelEnum": "apps.residents.models.PlaceLabel",
        # The kinds of push about an item: the register's and the simulator's.
        "RegisterEntryKindEnum": ["new", "update", "reminder"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.geojson_components_hook",
    ],
    "TAGS": [
        {"name": "news", "description": "News articles."},
        {"name": "works", "description": "Roadworks and work sites (travaux)."},
        {"name": "events", "description": "Events, with iCalendar feeds."},
        {"name": "taxonomy", "description": "Categories, organizations and areas."},
        {"name": "sync", "description": "Incremental sync: what was removed since a time."},
        {"name": "feed", "description": "The ranked, explained feed (anonymous or personal)."},
    ],
}
# Publishing API: an incoming geometry has at most this many vertices and spans at most this
# distance (bounding-box diagonal); larger ones are typing or projection mistakes.
API_GEOMETRY_MAX_VERTICES = 5000
API_GEOMETRY_MAX_EXTENT_M = 100_000

# --- CORS (django-cors-headers) -------------------------------------------------------------
# Browsers on these origins (scheme://host[:port], e.g. http://localhost:5173 for a web app's
# dev server) may call /api/ from their pages; nothing else. Reading needs no credentials and
# writes authenticate with a header (API key, device token), so no cookie crosses origins.
CORS_ALLOWED_ORIGINS: list[str] = env("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "if-modified-since",
    "if-none-match",
    "x-firebase-appcheck",
)
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After", "X-Cache", "WWW-Authenticate", "Content-Disposition"]
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Celery ---------------------------------------------------------------------------------
# CELERY_BROKER_URL unset -> tasks run eagerly in the calling process (embedded mode).
CELERY_BROKER_URL: str = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Redis redelivers an unacknowledged task after this many seconds; keep tasks well below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # A hung broker must not hold a web request (publishing enqueues on commit): each call
    # waits at most these, and a publish is retried twice. Unsent tasks are in the outbox.
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Push notifications ---------------------------------------------------------------------
FCM_CREDENTIALS_FILE: str = env("FCM_CREDENTIALS_FILE")
FCM_ENDPOINT: str = env("FCM_ENDPOINT")
# "fcm" when credentials are configured; else "log" (records what would be sent, sends
# nothing) in DEBUG only. Production without credentials gets none and refuses to start
# (apps/core/checks.py) unless PUSH_BACKEND=log is set explicitly.
PUSH_BACKEND: str = env("PUSH_BACKEND") or (
    "fcm" if FCM_CREDENTIALS_FILE else ("log" if DEBUG else "")
)
# Fan-out (apps.notifications.services): attempts per delivery before it fails; after how long
# the sweeper takes back a batch whose worker died (sending) or whose task was lost (pending).
NOTIFY_MAX_ATTEMPTS: int = env("NOTIFY_MAX_ATTEMPTS")
NOTIFY_STUCK_SENDING_S: int = env("NOTIFY_STUCK_SENDING_S")
NOTIFY_STUCK_PENDING_S: int = env("NOTIFY_STUCK_PENDING_S")
# Reminders: saved events this long before they start; roadworks from this hour (city time)
# the evening before they start, for residents whose home they reach.
NOTIFY_EVENT_REMINDER_LEAD = timedelta(minutes=env("NOTIFY_EVENT_REMINDER_LEAD_MINUTES"))
NOTIFY_WORKS_REMINDER_HOUR: int = env("NOTIFY_WORKS_REMINDER_HOUR")
# Opens from push (apps.notifications.services.opens): an open reported this long after the
# notification was created is not counted any more (its single-use tickets are purged).
NOTIFY_OPEN_WINDOW_DAYS: int = env("NOTIFY_OPEN_WINDOW_DAYS")

# --- Residents and privacy ------------------------------------------------------------------
RETENTION_DAYS: int = env("RETENTION_DAYS")
DEVICE_INACTIVE_DAYS: int = env("DEVICE_INACTIVE_DAYS")
# Append-only record of erased devices, outside the database so that it survives a restore
# (apps/residents/erasures.py; manage.py replay_erasures).
ERASURE_LOG_PATH: str = env("ERASURE_LOG_PATH")
RECOMMENDER_MODEL_DIR: str = env("RECOMMENDER_MODEL_DIR")
# The feed's candidates from each web process's in-memory item index (docs/recommender.md),
# rebuilt by a background thread after a content change; off: the SQL candidate statement.
FEED_ITEM_INDEX: bool = env("FEED_ITEM_INDEX")
FEED_INDEX_BACKGROUND: bool = env("FEED_INDEX_BACKGROUND")
# Content lists of the common shapes (pages, taxonomy, near, bbox) answered from the same index
# (apps.recommend.online.index_lists), byte for byte as the SQL path; off: always SQL.
API_LIST_ACCELERATION: bool = env("API_LIST_ACCELERATION")
# The refresh after a content change reads only the rows updated since the previous read less
# the slack (longer than any content transaction, plus clock skew between hosts), and the
# whole catalogue again at least every FEED_INDEX_FULL_EVERY_S (apps/recommend/online/
# index_refresh.py); FEED_INDEX_INCREMENTAL off: a full read at every change.
FEED_INDEX_INCREMENTAL: bool = env("FEED_INDEX_INCREMENTAL")
FEED_INDEX_REFRESH_SLACK_S: float = env("FEED_INDEX_REFRESH_SLACK_S")
FEED_INDEX_FULL_EVERY_S: float = env("FEED_INDEX_FULL_EVERY_S")
# Online evaluation (docs/recommender.md, "Online evaluation"): the share of personal feed
# requests interleaved (team draft) with the reference ranker — "nearest" (nearest first),
# "previous" (the model served before, else stage 1) or "stage1" —; 0 turns it off. A served
# model significantly worse than its reference (sign test at ONLINE_EVAL_ALPHA, over at least
# ONLINE_EVAL_MIN_COMPARISONS decided requests) is rolled back; the staff page and
# ``online_result()`` sum the last ONLINE_EVAL_WINDOW_DAYS days.
FEED_INTERLEAVING_SHARE: float = env("FEED_INTERLEAVING_SHARE")
FEED_INTERLEAVING_REFERENCE: str = env("FEED_INTERLEAVING_REFERENCE")
ONLINE_EVAL_ALPHA: float = env("ONLINE_EVAL_ALPHA")
ONLINE_EVAL_MIN_COMPARISONS: int = env("ONLINE_EVAL_MIN_COMPARISONS")
ONLINE_EVAL_WINDOW_DAYS: int = env("ONLINE_EVAL_WINDOW_DAYS")
if not 0.0 <= FEED_INTERLEAVING_SHARE <= 1.0:
    raise ImproperlyConfigured("FEED_INTERLEAVING_SHARE must be between 0 and 1.")
if FEED_INTERLEAVING_REFERENCE not in {"nearest", "previous", "stage1"}:
    raise ImproperlyConfigured("FEED_INTERLEAVING_REFERENCE must be nearest, previous or stage1.")
if not 0.0 < ONLINE_EVAL_ALPHA < 0.5:
    raise ImproperlyConfigured("ONLINE_EVAL_ALPHA must be between 0 and 0.5.")

# --- Interop (docs/interop.md) --------------------------------------------------------------
INTEROP_STANDARDS_DIR: str = env("INTEROP_STANDARDS_DIR")
INTEROP_PUBLISHER: str = env("INTEROP_PUBLISHER")
# DiaLog: its API's base URL; per request timeout; attempts of a change (backoff from
# DIALOG_RETRY_BASE_S doubling, at most 5 min); after how long the sweeper takes back a
# change whose worker died mid-request, or re-enqueues a lost one.
DIALOG_URL: str = env("DIALOG_URL")
DIALOG_TIMEOUT_S: float = env("DIALOG_TIMEOUT_S")
DIALOG_MAX_ATTEMPTS: int = env("DIALOG_MAX_ATTEMPTS")
DIALOG_RETRY_BASE_S: float = env("DIALOG_RETRY_BASE_S")
DIALOG_STUCK_S: int = env("DIALOG_STUCK_S")

# --- Public site (apps.site, docs/interop.md "Website") ---------------------------------------
# The city's name on pages, feeds and link previews.
SITE_NAME: str = env("SITE_NAME")
# Rendered pages, feeds and widgets are cached in CACHE_URL at most this long (writes
# invalidate them at once, like the API's response cache); 0 turns it off.
SITE_CACHE_SECONDS: int = env("SITE_CACHE_SECONDS")
# Browsers and proxies may keep feeds and widgets this long (Cache-Control max-age).
SITE_EMBED_MAX_AGE_S: int = env("SITE_EMBED_MAX_AGE_S")
# Origins allowed to frame the widgets (CSP frame-ancestors), e.g. https://www.ville.fr;
# every other page refuses to be framed.
SITE_WIDGET_ORIGINS: list[str] = env("SITE_WIDGET_ORIGINS")
# App links (/.well-known/): the Android package and its signing certificates' SHA-256
# fingerprints; the iOS app ids (TEAMID.bundle.id) and its App Store id (Smart App Banner).
SITE_ANDROID_PACKAGE: str = env("SITE_ANDROID_PACKAGE")
SITE_ANDROID_CERT_FINGERPRINTS: list[str] = env("SITE_ANDROID_CERT_FINGERPRINTS")
SITE_IOS_APP_IDS: list[str] = env("SITE_IOS_APP_IDS")
SITE_IOS_APP_STORE_ID: str = env("SITE_IOS_APP_STORE_ID")
for _origin in SITE_WIDGET_ORIGINS:
    if not _origin.startswith(("https://", "http://")) or _origin.count("/") != 2:
        raise ImproperlyConfigured(
            f"SITE_WIDGET_ORIGINS: {_origin!r} is not an origin (https://host[:port])."
        )

# --- Public alerts (docs/alerts.md) ---------------------------------------------------------
# CAP 1.2: the sender (default: SITE_URL's host); ``important`` items too; status Test for a
# staging server; the circle around a point and the band around a line, in metres.
CAP_SENDER: str = env("CAP_SENDER")
CAP_INCLUDE_IMPORTANT: bool = env("CAP_INCLUDE_IMPORTANT")
CAP_STATUS_TEST: bool = env("CAP_STATUS_TEST")
CAP_POINT_RADIUS_M: int = env("CAP_POINT_RADIUS_M")
CAP_LINE_BUFFER_M: int = env("CAP_LINE_BUFFER_M")
# CAP sources polled (apps.alerts.sources): per request, and the largest document read.
CAP_FETCH_TIMEOUT_S: float = env("CAP_FETCH_TIMEOUT_S")
CAP_FETCH_MAX_BYTES: int = env("CAP_FETCH_MAX_BYTES")
# Alert presentation on phones (docs/notifications.md): the iOS critical-alert sound, only
# when the app holds Apple's entitlement; an Android channel the app lets bypass Do Not Disturb.
NOTIFY_IOS_CRITICAL_ALERTS: bool = env("NOTIFY_IOS_CRITICAL_ALERTS")
NOTIFY_ANDROID_ALERT_CHANNEL: str = env("NOTIFY_ANDROID_ALERT_CHANNEL")

# --- Security -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Served over HTTPS (an https:// SITE_URL, the proxy terminating TLS): the staff admin's
# cookies never travel in clear, plain HTTP is redirected and browsers are told to remember it
# (HSTS, one year). Each DJANGO_SECURE_* variable overrides its default (docs/deploy.md).
_https = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _https
_ssl_redirect = env("DJANGO_SECURE_SSL_REDIRECT")
SECURE_SSL_REDIRECT: bool = _https if _ssl_redirect is None else _ssl_redirect
# The load balancer's and monitoring's probes reach gunicorn in plain HTTP on the inside.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
_hsts_seconds = env("DJANGO_SECURE_HSTS_SECONDS")
SECURE_HSTS_SECONDS: int = (
    (365 * 24 * 3600 if _https else 0) if _hsts_seconds is None else _hsts_seconds
)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD: bool = env("DJANGO_SECURE_HSTS_PRELOAD")
# Behind a proxy (API_NUM_PROXIES > 0) that sets X-Forwarded-Proto itself (docs/deploy.md §8),
# a request is secure when the proxy received it over HTTPS. Without a proxy the header could be
# forged, so it is not trusted unless asked.
_proxy_ssl_header = env("DJANGO_SECURE_PROXY_SSL_HEADER")
if (env("API_NUM_PROXIES") > 0) if _proxy_ssl_header is None else _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Staff sign-in (apps.core.admin.staff, docs/deploy.md "Staff accounts") ----------------
# django-axes locks a username *from one address* after STAFF_LOGIN_FAILURE_LIMIT failed
# passwords, for STAFF_LOGIN_COOLOFF_MINUTES (the attempts live in PostgreSQL, not in Redis);
# django-otp adds a TOTP second factor, required for whoever can notify residents.
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
_auth_middleware = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE[_auth_middleware + 1 : _auth_middleware + 1] = [
    "django_otp.middleware.OTPMiddleware",
    "apps.core.admin.staff.StaffAccessMiddleware",
]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT: int = env("STAFF_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=env("STAFF_LOGIN_COOLOFF_MINUTES"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.core.admin.staff.staff_client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/quartier/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
OTP_TOTP_ISSUER = "Quartier"
# Staff e-mails: validators hear of approval requests, requesters of decisions
# (apps/core/approval_rule.py); a mail server down is logged, the admin list is the reference.
globals().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL: str = env("DEFAULT_FROM_EMAIL")
# Staff sessions: at most STAFF_SESSION_MAX_AGE_S after sign-in, STAFF_SESSION_IDLE_S idle.
STAFF_SESSION_MAX_AGE_S: int = env("STAFF_SESSION_MAX_AGE_S")
STAFF_SESSION_IDLE_S: int = env("STAFF_SESSION_IDLE_S")
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_AGE_S

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # runserver's request lines keep no position (docs/privacy.md): backend/access_log.py.
    "filters": {"redact_positions": {"()": "backend.access_log.RedactPositionsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    "loggers": {
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["redact_positions"],
            "level": "INFO",
            "propagate": False,
        },
        "django.db.backends": {"level": "INFO"},
        # httpx logs every request at INFO: thousands of lines a second during an FCM fan-out.
        "httpx": {"level": "WARNING"},
    },
}

# GDAL < 3.9 cannot forbid file/network access from spatial references. Quartier never builds
# a spatial reference from user input: API geometries are parsed without their "crs" member,
# which the serializers reject (RFC 7946 removed it).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
# HSTS preload commits the city's whole registrable domain (hstspreload.org): a decision for
# the city, not for one service; DJANGO_SECURE_HSTS_PRELOAD=true sends the directive.
SILENCED_SYSTEM_CHECKS += ["security.W021"]
