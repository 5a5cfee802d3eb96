"""Size limits on what the doors take (docs/decisions.md#bounded-and-total-doors), told the same way by every door: one
line naming the limit and the setting that holds it, checked before anything is read or parsed.

`size_check` is the one helper: a door gives the size it was told (Content-Length, the file's size on disk, an
upload's size) and the setting's name; over the limit it raises OperationRefused with status 413.
"""

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from p2c.outcomes import OperationRefused, Refusal

# The largest age in days an operation takes (a hundred years): past it, "now minus the age" is no date (a 500 with
# 1,000,000 days: "date value out of range"). The cleanup of the synchronisation log and the conflicts' age filter
# hold to it; the API's serializers and filters and the commands' arguments state it.
MAX_AGE_DAYS = 36_500
MAX_AGE_MINUTES = MAX_AGE_DAYS * 24 * 60  # the same hundred years, for settings in minutes (alerts)


def size_limit(setting):
    """The limit in bytes the setting named ``setting`` holds."""
    return getattr(settings, setting)


def too_large_message(setting):
    limit = size_limit(setting)
    return gettext("Refused unread: larger than %(size)s (%(limit)s bytes), the limit set by %(setting)s; nothing "
                   "was changed.") % {"size": filesizeformat(limit), "limit": limit, "setting": setting}


def size_check(size, *, setting):
    """Raise OperationRefused (413, ``too_large``) when ``size`` bytes is more than the setting ``setting`` allows."""
    if size is not None and size > size_limit(setting):
        raise OperationRefused(too_large_message(setting), code=Refusal.TOO_LARGE, status=413)


def body_limit_setting(path):
    """The setting that limits the body of a request to ``path`` (P2C_API_BODY_LIMITS), or None."""
    for prefix, setting in getattr(settings, "P2C_API_BODY_LIMITS", {}).items():
        if path.startswith(prefix):
            return setting
    return None
