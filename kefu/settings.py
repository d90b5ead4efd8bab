"""Django settings for Kefu. Everything configurable comes from KEFU_* environment variables.

See README.md ("Configuration") for the list and the production checklist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from kefu.core.env import env_bool, env_int, env_list, env_secret, env_str, secret_key

django_stubs_ext.monkeypatch()  # lets ModelAdmin[Model] etc. be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KEFU_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("KEFU_DEBUG", False)
SECRET_KEY = secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("KEFU_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("KEFU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "kefu.core",
    "kefu.audit",
    "kefu.org",
    "kefu.customers",
    "kefu.orders",
    "kefu.credit",
    "kefu.tiering",
    "kefu.sla",
    "kefu.calls",
    "kefu.routing",
    "kefu.desk",
    "kefu.workspace",
    "kefu.mail",
    "kefu.portal",
    "kefu.dispatch",
    "kefu.analytics",
    "kefu.reports",
    "kefu.dashboard",
    "kefu.api",
    "kefu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kefu.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"
ASGI_APPLICATION = "kefu.asgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kefu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.web.context_processors.navigation",
                "kefu.calls.context_processors.screen_pop",
                "kefu.desk.context_processors.bell",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("KEFU_DB_CONN_MAX_AGE", 60))
        )
        config["CONN_HEALTH_CHECKS"] = True
        if config.get("ENGINE") == "django.db.backends.postgresql":
            # the same backend, with a health check that asks the socket before the server
            config["ENGINE"] = "kefu.core.postgresql"
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "kefu.sqlite3",
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the busy
            # timeout instead of failing with "database is locked" when a reader upgrades.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
    }


DATABASES = {"default": _database(env_str("KEFU_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("KEFU_REDIS_URL")
if REDIS_URL:
    HUEY: dict[str, Any] = {
        "huey_class": "huey.RedisHuey",
        "name": "kefu",
        "immediate": False,
        "connection": {"url": REDIS_URL},
        "consumer": {"workers": env_int("KEFU_WORKER_THREADS", 2), "worker_type": "thread"},
    }
    CACHES = {"default": {"BACKEND": "kefu.core.cache.RedisCache", "LOCATION": REDIS_URL}}
    CACHES["calls"] = CACHES["default"]
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kefu",
        "immediate": False,
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "consumer": {"workers": env_int("KEFU_WORKER_THREADS", 2), "worker_type": "thread"},
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Screen pops cross processes (the PBX's event reaches one gunicorn worker, the agent's
        # poll another): without Redis they go through files every process can read.
        "calls": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "calls"),
        },
    }

# ModelBackend with permission sets cached across requests (kefu/org/backends.py).
AUTHENTICATION_BACKENDS = ["kefu.org.backends.CachedModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
TIME_ZONE = env_str("KEFU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "kefu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Sessions and cookies: secure flags follow KEFU_HTTPS, which a deployment behind TLS turns on.
HTTPS = env_bool("KEFU_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("KEFU_SESSION_AGE", 12 * 3600)
SECURE_SSL_REDIRECT = env_bool("KEFU_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("KEFU_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]
# models.W040: the open tickets' index carries extra columns (INCLUDE) on PostgreSQL; SQLite
# builds the same index without them, as intended (kefu/desk/models.py, desk_ticket_open).
SILENCED_SYSTEM_CHECKS += ["models.W040"]

# Shared secret of the PBX / cloud call center: call events are signed with it (HMAC-SHA256).
# Unset, every call event is refused.
CTI_SECRET = env_secret("KEFU_CTI_SECRET") or ""
# When the hotline is staffed on working days (calls outside become callback tasks).
HOTLINE_HOURS = env_str("KEFU_HOTLINE_HOURS", "09:00-18:00")
# How often an agent's browser asks for a screen pop. The issue wants the caller's card within
# 1 s of the ringing event: a poll every 500 ms plus the card's render stays under it at the
# worst moment (an event just after a poll). Each poll is one cache read.
SCREEN_POP_POLL_MS = env_int("KEFU_SCREEN_POP_POLL_MS", 500)
# Agents' presence (kefu.routing): an online or busy agent whose browser has not been heard
# from for PRESENCE_TIMEOUT_MINUTES goes offline (and routing skips them before that); the
# browser's heartbeat is written at most once per PRESENCE_HEARTBEAT_SECONDS.
PRESENCE_TIMEOUT_MINUTES = env_int("KEFU_PRESENCE_TIMEOUT_MINUTES", 15)
PRESENCE_HEARTBEAT_SECONDS = env_int("KEFU_PRESENCE_HEARTBEAT_SECONDS", 60)

# API tokens live this long unless KEFU_API_TOKEN_DAYS says otherwise.
API_TOKEN_DAYS = env_int("KEFU_API_TOKEN_DAYS", 30)
# Each process keeps the tokens it has read under a version token in the shared cache
# (kefu.api.tokens): only where that cache is shared by every process, i.e. Redis.
API_TOKEN_CACHE = env_bool("KEFU_API_TOKEN_CACHE", bool(REDIS_URL))
API_MAX_PAGE_SIZE = 100

# Tickets: attachments (type and size) and the approval limits of claims and complaint
# compensation in yuan (domain.md §4.4: up to the first the supervisor approves, up to the
# second the manager and finance, above it the general manager).
TICKET_ATTACHMENT_MAX_BYTES = env_int("KEFU_TICKET_ATTACHMENT_MAX_MB", 10) * 1024 * 1024
TICKET_ATTACHMENT_TYPES = env_list(
    "KEFU_TICKET_ATTACHMENT_TYPES",
    [
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "pdf",
        "txt",
        "csv",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "zip",
        "mp3",
        "wav",
        "mp4",
        "eml",
    ],
)
TICKET_APPROVAL_SUPERVISOR_LIMIT = env_int("KEFU_TICKET_APPROVAL_SUPERVISOR_LIMIT", 2_000)
TICKET_APPROVAL_MANAGER_LIMIT = env_int("KEFU_TICKET_APPROVAL_MANAGER_LIMIT", 20_000)

# Email (kefu.mail, docs/mail.md). Inbound: an IMAP mailbox fetched every minute (empty host =
# fetching off). Outbound: agents' public replies through Django's email backend, SMTP when
# KEFU_EMAIL_HOST is set, else the console (development).
MAIL_IMAP_HOST = env_str("KEFU_MAIL_IMAP_HOST")
MAIL_IMAP_SSL = env_bool("KEFU_MAIL_IMAP_SSL", True)
MAIL_IMAP_PORT = env_int("KEFU_MAIL_IMAP_PORT", 993 if MAIL_IMAP_SSL else 143)
MAIL_IMAP_USER = env_str("KEFU_MAIL_IMAP_USER")
MAIL_IMAP_PASSWORD = env_secret("KEFU_MAIL_IMAP_PASSWORD") or ""
MAIL_IMAP_FOLDER = env_str("KEFU_MAIL_IMAP_FOLDER", "INBOX")
MAIL_FETCH_BATCH = env_int("KEFU_MAIL_FETCH_BATCH", 50)  # new messages per fetch
MAIL_MAX_ATTEMPTS = env_int("KEFU_MAIL_MAX_ATTEMPTS", 5)  # a failing message is tried this often
MAIL_SEND_ATTEMPTS = env_int("KEFU_MAIL_SEND_ATTEMPTS", 8)  # a reply is sent at most this often
MAIL_TEAM = env_str("KEFU_MAIL_TEAM")  # team name for mail from unknown senders (else routing)
MAIL_FROM = env_str("KEFU_MAIL_FROM", "客服中心 <kefu@localhost>")
EMAIL_HOST = env_str("KEFU_EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("KEFU_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("KEFU_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("KEFU_EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("KEFU_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("KEFU_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("KEFU_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = MAIL_FROM

# Customer portal (kefu.portal): the public form at /support/ and the status links.
# COMPANY_NAME signs the customer's SMS and mail; PORTAL_URL is where customers reach this
# server (the links in SMS and mail are built on it); PORTAL_RATE limits the form and replies
# per client address ("5/h", "20/d", "10/15m"); SMS_BACKEND is console, file, locmem or a
# dotted path; NOTICE_CHANNELS says which of sms, email the customer notices use.
COMPANY_NAME = env_str("KEFU_COMPANY_NAME", "客服中心")
PORTAL_URL = env_str("KEFU_PORTAL_URL", "http://127.0.0.1:8000")
PORTAL_RATE = env_str("KEFU_PORTAL_RATE", "5/h")
SMS_BACKEND = env_str("KEFU_SMS_BACKEND", "console")
SMS_FILE_PATH = env_str("KEFU_SMS_FILE_PATH", str(VAR_DIR / "sms"))
NOTICE_CHANNELS = env_list("KEFU_NOTICE_CHANNELS", ["sms", "email"])
# A notice or mail reply still "sending" this many minutes after it was claimed lost its
# worker: the sweeper (kefu sweep_notices) queues it again. A notice is tried at most
# NOTICE_MAX_ATTEMPTS times (the first try and Huey's 6 retries), then given up (bell).
NOTICE_STALE_MINUTES = env_int("KEFU_NOTICE_STALE_MINUTES", 10)
NOTICE_MAX_ATTEMPTS = env_int("KEFU_NOTICE_MAX_ATTEMPTS", 7)

# Work orders to other departments (派工单): the default deadline in working days on the
# ticket team's calendar and hours, and how many hours before it an order shows as due soon.
WORKORDER_DEADLINE_WORKDAYS = env_int("KEFU_WORKORDER_DEADLINE_WORKDAYS", 2)
WORKORDER_DUE_SOON_HOURS = env_int("KEFU_WORKORDER_DUE_SOON_HOURS", 4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "huey": {"level": "INFO", "propagate": False},  # the consumer logs through its own handler
    },
}
TRUSTED_PROXIES = env_list("KEFU_TRUSTED_PROXIES", [])
