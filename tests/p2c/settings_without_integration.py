"""The p2c settings without the integration: the Sales and ERP apps must work on their own (imports run one way,
p2c ← crm, erp ← integration). Used by tests/p2c/test_without_integration.py in a subprocess."""

from p2c.settings import *  # noqa: F403
from p2c.settings import INSTALLED_APPS, SPECTACULAR_SETTINGS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "integration"]
# The schema's enum names that point into the integration.
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "ENUM_NAME_OVERRIDES": {
        name: path for name, path in SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}).items()
        if not path.startswith("integration.")
    },
}
CELERY_BEAT_SCHEDULE = {}  # its tasks are the integration's
