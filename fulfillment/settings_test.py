"""Test settings: the real settings, with fast password hashing and plain static storage."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("FD_DATA_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from .settings import *  # noqa: F403
from .settings import STORAGES

DEBUG = False  # behave as production does (error pages, no debug toolbar-ish output)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# The dashboard reads live figures in tests: a test that changes data between two visits must
# see the change. tests/reports/test_rollups.py turns the rollups on where it tests them.
FD_REPORT_ROLLUP_MAX_AGE = 0
