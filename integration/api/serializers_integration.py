"""Old path of integration.api.mapping_serializers, kept for p2c/settings.py (SPECTACULAR_SETTINGS names
``DIRECTION_CHOICES`` by this path) and integration/api/record_actions.py, which other branches own: drop it once
they name integration.api.mapping_serializers."""

from integration.api.mapping_serializers import *  # noqa: F403
from integration.api.mapping_serializers import DIRECTION_CHOICES  # noqa: F401
