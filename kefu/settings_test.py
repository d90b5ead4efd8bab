"""Settings for the test suite: the normal settings plus speed and isolation tweaks.

KEFU_TEST_DATABASE_URL selects the database server the suite runs against (CI sets it to the
local PostgreSQL); without it the suite runs on SQLite.
"""

from __future__ import annotations

import os

from kefu.settings import *  # noqa: F403
from kefu.settings import _database

_url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
DATABASES = {"default": _database(_url)}
if not _url:
    DATABASES["default"]["TEST"] = {"NAME": None}  # in-memory SQLite per worker

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # for speed
HUEY = {"huey_class": "huey.MemoryHuey", "name": "kefu-test", "immediate": True}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "calls": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "calls"},
}
# Off whatever KEFU_REDIS_URL says (the caches above are each process's own); the token
# cache's own tests turn it on (kefu/api/tests/test_token_cache.py).
API_TOKEN_CACHE = False
CTI_SECRET = "test-cti-secret"  # noqa: S105 (tests sign call events with it)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
HTTPS = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
LANGUAGE_CODE = "zh-hans"

# Static files come from the finders in tests (no collectstatic run needed).
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
