"""Old path of integration.fo.upgrade, kept for importers other branches own (tasks.py, externally_maintained.py,
tests/bench): drop it once they import integration.fo.upgrade."""

from integration.fo.upgrade import *  # noqa: F403
