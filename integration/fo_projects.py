"""Old path of integration.fo.projects, kept for importers other branches own (tasks.py, externally_maintained.py,
tests/bench): drop it once they import integration.fo.projects."""

from integration.fo.projects import *  # noqa: F403
