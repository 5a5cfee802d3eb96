"""Old path of integration.fo.templates, kept for importers other branches own (tasks.py, externally_maintained.py,
tests/bench): drop it once they import integration.fo.templates."""

from integration.fo.templates import *  # noqa: F403
