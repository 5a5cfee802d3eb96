"""Where a command that exports text writes it (``integration_export``, ``integration_history``): standard output,
or the file of ``-o FILE`` with a clear error when it cannot be written."""

from django.core.management.base import CommandError
from django.utils.translation import gettext


def text_write(command, text, output):
    """Write ``text`` to the file ``output``, or to ``command``'s standard output when there is none; return whether
    it went to a file (the command then says so)."""
    if not output:
        command.stdout.write(text, ending="")
        return False
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise CommandError(
            gettext("Cannot write %(output)s: %(strerror)s.") % {"output": output, "strerror": exc.strerror}
        ) from exc
    return True
