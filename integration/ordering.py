"""Old path of integration.mapping_order, kept for integration/full_sync.py (another branch owns it): drop it once
full_sync.py imports integration.mapping_order."""

from integration.mapping_order import *  # noqa: F403
from integration.mapping_order import mappings_in_dependency_order  # noqa: F401
