"""Settings for Fulfillment Desk: one module, driven by environment variables.

Two shapes, same code:
- embedded default (nothing set): SQLite in ``var/`` and Celery's filesystem broker,
  so ``make run`` works on a machine with no services;
- deployment: ``DATABASE_URL=postgres://…`` and ``REDIS_URL=redis://…``.

``DJANGO_DEBUG=1`` is for local use only. Without it the settings are production
settings: ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS`` are required and the
security headers are on (``manage.py check --deploy`` is clean).
"""

import os
from pathlib import Path

import dj_database_url
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
DATA_DIR = Path(os.environ.get("FD_DATA_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production settings).")
    SECRET_KEY = "insecure-local-development-key-only-used-with-DJANGO_DEBUG-1-xxxxxxxxxxxx"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fulfillment",
    "orders",
    "inquiries",
    "escalation",
    "portal",
    "helpcenter",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fulfillment.api.middleware.ApiBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fulfillment.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "fulfillment.urls"
WSGI_APPLICATION = "fulfillment.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {
                # A web server and a worker write at once: WAL and immediate transactions
                # avoid "database is locked" under light load.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "fulfillment.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The follow-up delay table's "one row per category and priority, blank meaning any" is a unique
# constraint with NULLS NOT DISTINCT: PostgreSQL enforces it; the embedded SQLite cannot (the admin
# form still refuses a duplicate there, through the model's validate_constraints).
SILENCED_SYSTEM_CHECKS = ["models.W047"]

# --- languages --------------------------------------------------------------
# Filipino is not in Django's own table; teach Django its name.
LANG_INFO.setdefault("fil", {"bidi": False, "code": "fil", "name": "Filipino", "name_local": "Filipino"})
LANGUAGE_CODE = "en"
#: Date and number formats for the languages Django has none for (Filipino).
FORMAT_MODULE_PATH = ["fulfillment.formats"]
LANGUAGES = [
    ("en", _("English")),
    ("ta", _("Tamil")),
    ("fil", _("Filipino")),
    ("bn", _("Bengali")),
    ("hi", _("Hindi")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("FD_TIME_ZONE", "UTC")

# --- static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("FD_PLAIN_STATIC", False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it

# --- cache (API throttling) ---------------------------------------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # The embedded default: a broker that needs no server (one host only).
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
#: The queue tasks go to and workers read (the service tests give each run its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("FD_CELERY_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "fulfillment.tasks.heartbeat", "schedule": 60.0},
    "sweep-jobs": {"task": "fulfillment.tasks.sweep_jobs", "schedule": float(os.environ.get("FD_SWEEP_SECONDS", "10"))},
    "purge-idempotency-records": {"task": "fulfillment.tasks.purge_idempotency_records", "schedule": 3600.0},
    "refresh-search-terms": {"task": "inquiries.tasks.refresh_search_terms", "schedule": 24 * 3600.0},
    "sweep-target-recomputes": {"task": "inquiries.tasks.sweep_target_recomputes", "schedule": 60.0},
    "sweep-escalation-rules": {"task": "escalation.tasks.sweep_escalation_rules", "schedule": 60.0},
    "sweep-reminders": {"task": "inquiries.tasks.sweep_reminders", "schedule": 60.0},
    "sweep-surveys": {"task": "portal.tasks.sweep_surveys", "schedule": 60.0},
    "purge-finished-jobs": {"task": "fulfillment.tasks.purge_finished_jobs", "schedule": 3600.0},
    "refresh-report-rollups": {
        "task": "reports.tasks.refresh_rollups",
        "schedule": float(os.environ.get("FD_REPORT_ROLLUP_SECONDS", "600")),
    },
    # last week's report to supervisors, seniors and specialists (reports/weekly_mail.py): each
    # hour sends to whoever is due it and was not told yet (from Monday FD_WEEKLY_REPORT_HOUR)
    "send-weekly-reports": {"task": "reports.tasks.send_weekly_reports", "schedule": 3600.0},
}

# --- security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz is probed over plain HTTP from inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FD_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- the desk ---------------------------------------------------------------------
FD_ORDER_NUMBER_PREFIX = os.environ.get("FD_ORDER_NUMBER_PREFIX", "FD")
FD_DEFAULT_CURRENCY = os.environ.get("FD_DEFAULT_CURRENCY", "USD")
FD_AT_RISK_DAYS = int(os.environ.get("FD_AT_RISK_DAYS", "1"))
FD_PAGE_SIZE = 50
#: Done and cancelled scheduled jobs are deleted this many days after they finished.
FD_JOB_RETENTION_DAYS = int(os.environ.get("FD_JOB_RETENTION_DAYS", "30"))
# The dashboard's rollups (docs/reports.md): refreshed every FD_REPORT_ROLLUP_SECONDS by beat,
# read while younger than FD_REPORT_ROLLUP_MAX_AGE seconds; 0 turns the reading off.
FD_REPORT_ROLLUP_SECONDS = int(os.environ.get("FD_REPORT_ROLLUP_SECONDS", "600"))
FD_REPORT_ROLLUP_MAX_AGE = int(os.environ.get("FD_REPORT_ROLLUP_MAX_AGE", str(2 * FD_REPORT_ROLLUP_SECONDS)))
# Last week's report by email from this hour on Monday, desk time (0-23); "off": not sent.
FD_WEEKLY_REPORT_HOUR = os.environ.get("FD_WEEKLY_REPORT_HOUR", "7").strip().lower()
if FD_WEEKLY_REPORT_HOUR != "off" and not (FD_WEEKLY_REPORT_HOUR.isdigit() and 0 <= int(FD_WEEKLY_REPORT_HOUR) <= 23):
    raise ImproperlyConfigured("FD_WEEKLY_REPORT_HOUR must be an hour from 0 to 23, or off.")
#: Extra modules that register scheduled-job handlers (comma-separated; the service tests use it).
FD_JOB_MODULES = [name for name in os.environ.get("FD_JOB_MODULES", "").split(",") if name.strip()]

# --- inquiries and mail -------------------------------------------------------------
# Outbound mail: SMTP when EMAIL_HOST is set; otherwise (make run) mails are written as files
# under var/mail so nothing leaves the machine by accident.
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
FD_SUPPORT_EMAIL = os.environ.get("FD_SUPPORT_EMAIL", "support@desk.example")
#: The desk's own address, for links in staff notification mails.
FD_SITE_URL = os.environ.get("FD_SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = FD_SUPPORT_EMAIL
SERVER_EMAIL = FD_SUPPORT_EMAIL
FD_MAIL_DOMAIN = os.environ.get("FD_MAIL_DOMAIN", FD_SUPPORT_EMAIL.rpartition("@")[2] or "desk.example")
#: Shared secret of the inbound-mail webhook (HMAC-SHA256 of the body); empty = webhook off.
FD_INBOUND_MAIL_SECRET = os.environ.get("FD_INBOUND_MAIL_SECRET", "")
FD_ATTACHMENT_MAX_BYTES = int(os.environ.get("FD_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
FD_ATTACHMENT_TYPES = env_list(
    "FD_ATTACHMENT_TYPES",
    "image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain,text/csv,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
FD_INBOUND_MAIL_MAX_BYTES = int(os.environ.get("FD_INBOUND_MAIL_MAX_BYTES", 30 * 1024 * 1024))
#: The mailbox `manage.py fetch_mail --imap` reads (see docs/email.md). Port 0: 993 with SSL, else 143.
FD_IMAP_HOST = os.environ.get("FD_IMAP_HOST", "")
FD_IMAP_PORT = int(os.environ.get("FD_IMAP_PORT", "0"))
FD_IMAP_USER = os.environ.get("FD_IMAP_USER", "")
FD_IMAP_PASSWORD = os.environ.get("FD_IMAP_PASSWORD", "")
FD_IMAP_FOLDER = os.environ.get("FD_IMAP_FOLDER", "INBOX")
FD_IMAP_SSL = env_bool("FD_IMAP_SSL", True)
#: Empty: processed mail is flagged \Seen; a folder name: it is moved there.
FD_IMAP_MOVE_TO = os.environ.get("FD_IMAP_MOVE_TO", "")
#: Public web form: submissions per client address per hour.
FD_WEB_FORM_RATE = int(os.environ.get("FD_WEB_FORM_RATE", "5"))

# --- REST API ----------------------------------------------------------------------
FD_API_MAX_BODY_BYTES = int(os.environ.get("FD_API_MAX_BODY_BYTES", 4 * 1024 * 1024))
FD_IDEMPOTENCY_HOURS = max(24, int(os.environ.get("FD_IDEMPOTENCY_HOURS", "48")))
FD_API_BULK_MAX = 500
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fulfillment.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["fulfillment.api.auth.HasScope"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fulfillment.api.errors.exception_handler",
    # No OPTIONS metadata: the schema at /api/schema/ describes every endpoint (and DRF's
    # metadata crashed on detail-less custom routes such as by-ref).
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_THROTTLE_CLASSES": ["fulfillment.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("FD_API_RATE", "6000/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fulfillment Desk API",
    "DESCRIPTION": "Order sync for shop fronts, ERPs and warehouses. See docs/api.md for the sync protocol.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key fd_<prefix>_<secret>`",
            }
        }
    },
    "SECURITY": [{"ApiKey": []}],
    # Choice sets used under several field names (or one name for several sets) get one name each.
    "ENUM_NAME_OVERRIDES": {
        "ContactChannelEnum": "fulfillment.tiers.ContactChannel",
        "InquiryStatusEnum": "inquiries.enums.InquiryStatus",
        "CustomerTierEnum": "orders.enums.CustomerTier",
        "TierEnum": "fulfillment.tiers.Tier",
        "KindEnum": "inquiries.enums.MessageKind",
        "EscalationKindEnum": "escalation.enums.Kind",
        "SpecialtyNeededEnum": "fulfillment.tiers.Specialty",
        "WebhookEventTypeEnum": "fulfillment.models.WebhookEventType",
    },
}
