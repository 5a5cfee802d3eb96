"""Which real services this test run has."""

import os
import shutil

from django.conf import settings


def postgres_configured():
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def redis_broker_configured():
    return os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")


def browser_executable():
    return os.environ.get("P2C_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
