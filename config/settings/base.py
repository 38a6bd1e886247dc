"""Settings read from the environment (12-factor), with safe defaults for development.

DATABASE_URL  default: SQLite file db.sqlite3 in the project (the embedded demo default).
REDIS_URL     when unset, Celery runs tasks eagerly in-process (demo); when set, it is the broker,
              the result backend and the cache.
SECRET_KEY    a development key is used here; production.py refuses to start without one.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "config",  # first: its ready() loads the Celery app (config/apps.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, never a CDN
    "accounts",
    "questions",
    "forecasts",
    "scoring",
    "strategy",
    "notifications",
    "api",
    "demo",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # psycopg prepares a statement run this many times on one connection, on server-side-binding
    # cursors only: config.prepared's hot statements (Django's own cursors bind client-side and are
    # never prepared). Django leaves it None (never), which parses and plans the submission's
    # statement on every request. "off" behind a pooler that cannot keep prepared statements.
    _threshold = os.environ.get("DB_PREPARE_THRESHOLD", "2").strip().lower()
    if _threshold not in ("off", "none", "") and not _threshold.isdigit():
        raise ImproperlyConfigured(f"DB_PREPARE_THRESHOLD must be a whole number or off, not {_threshold!r}")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(_threshold) if _threshold.isdigit() else None
    )
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite serialises writers; a generous timeout keeps the demo's eager tasks from failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Redis: broker, results and cache -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open (config/cache.py): a Redis outage must not turn every throttled request
            # into a 500; short socket timeouts keep an unreachable Redis from hanging requests.
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "signpost"),
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
# Every setting here serves "a forecast or a score is never lost":
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker (the embedded demo) tasks run in-process as soon as they are enqueued.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Acknowledge after the task finishes, so a worker that dies mid-task leaves the message to be
# redelivered; together with idempotent tasks this is at-least-once with exactly-once effect.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per worker process: a killed worker loses (and so redelivers) only one.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "600"))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "540"))
# Redis redelivers an unacknowledged message after the visibility timeout: it must exceed the
# longest task (the hard time limit), or a slow task would run twice at once. The default leaves
# 300 s of margin; CELERY_VISIBILITY_TIMEOUT overrides it (the fault tests use a few seconds, with
# a hard limit below it, to see a killed worker's job redelivered quickly). A value that breaks
# the invariant is refused rather than silently running jobs twice.
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(CELERY_TASK_TIME_LIMIT + 300)))
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be greater than CELERY_TASK_TIME_LIMIT")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "signpost")
CELERY_BEAT_SCHEDULE: dict = {
    # The safety net for scoring: a resolution whose job was lost (broker down) is found here.
    "scores-reconcile": {
        "task": "scoring.tasks.scores_reconcile",
        "schedule": float(os.environ.get("RECONCILE_SECONDS", "60")),
    },
    # The same for crowd history: a forecast whose crowd update was lost is caught up here.
    "crowd-reconcile": {
        "task": "forecasts.tasks.crowd_reconcile",
        "schedule": float(os.environ.get("RECONCILE_SECONDS", "60")),
    },
    # The forecast throttle's windows (forecasts.window) whose newest request has left them.
    "throttle-windows-expire": {
        "task": "forecasts.tasks.throttle_windows_expire",
        "schedule": float(os.environ.get("RECONCILE_SECONDS", "60")),
    },
    # Notifications: resolution notices whose job was lost, webhooks never enqueued.
    "notifications-reconcile": {
        "task": "notifications.tasks.notifications_reconcile",
        "schedule": float(os.environ.get("RECONCILE_SECONDS", "60")),
    },
    # The notification scans (each idempotent: a second run stores nothing twice) and the digest.
    "notifications-stale": {
        "task": "notifications.tasks.stale_forecasts_scan",
        "schedule": float(os.environ.get("NOTIFICATIONS_SCAN_SECONDS", "900")),
    },
    "notifications-crowd-moved": {
        "task": "notifications.tasks.crowd_moves_scan",
        "schedule": float(os.environ.get("NOTIFICATIONS_SCAN_SECONDS", "900")),
    },
    "notifications-closing": {
        "task": "notifications.tasks.closing_soon_scan",
        "schedule": float(os.environ.get("NOTIFICATIONS_SCAN_SECONDS", "900")),
    },
    "notifications-digest": {
        "task": "notifications.tasks.email_digest",
        "schedule": float(os.environ.get("NOTIFICATIONS_DIGEST_SECONDS", "3600")),
    },
}
CELERY_TIMEZONE = "UTC"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.StrictContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttles.AnonThrottle",
        "config.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "600/min"),
        "user": os.environ.get("THROTTLE_USER", "3000/min"),
        "forecast": os.environ.get("THROTTLE_FORECAST", "120/min"),
        "login": os.environ.get("THROTTLE_LOGIN", "10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")) or None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Signpost API",
    "DESCRIPTION": (
        "Forecasting questions drawn from analysts' articles, probability forecasts, and their "
        "scores. Brier scores are two-sided, on a 0..2 scale (lower is better): the one-sided "
        "binary Brier used by some tools is exactly half. Errors are "
        '`{"error": {"code", "message", "fields": {name: [rule]}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.document_every_method",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "QuestionTypeEnum": "questions.models.Question.Type",
        "QuestionStateEnum": "questions.models.Question.State",
        "ScoringModeEnum": "questions.models.ScoringMode",
    },
}

# --- E-mail and notifications ----------------------------------------------------------------
# The console backend prints e-mails (the demo); production sets the SMTP backend and its server.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
if os.environ.get("EMAIL_FILE_PATH"):  # for django.core.mail.backends.filebased.EmailBackend
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Signpost <notifications@localhost>")
# The site's public address, for the links in e-mails and webhook posts.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000")
# Webhooks: seconds per attempt, retries after the first attempt, the first retry's delay (doubled
# each time), and whether private or loopback addresses may be called (off: no request forgery).
NOTIFICATIONS_WEBHOOK_TIMEOUT = float(os.environ.get("NOTIFICATIONS_WEBHOOK_TIMEOUT", "5"))
NOTIFICATIONS_WEBHOOK_RETRIES = int(os.environ.get("NOTIFICATIONS_WEBHOOK_RETRIES", "8"))
NOTIFICATIONS_WEBHOOK_BACKOFF = float(os.environ.get("NOTIFICATIONS_WEBHOOK_BACKOFF", "30"))
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = env_bool("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE")

# The crowd forecast is published only while at least this many forecasts stand: with one, the
# "crowd" is that person's forecast; with two, each can work out the other's from the median.
CROWD_MIN_FORECASTERS = int(os.environ.get("CROWD_MIN_FORECASTERS", "3"))

API_TOKEN_LIFETIME = timedelta(days=int(os.environ.get("API_TOKEN_DAYS", "30")))

# Login brute-force protection: failures per username+IP within the window lock that pair out.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# How many reverse proxies in front of the web processes append to X-Forwarded-For. 0 (default):
# the socket address is the client. Throttles use the same count (NUM_PROXIES).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
