import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from integration.configuration import ConfigurationInvalid, configuration_import, format_of
from integration.configuration.history import history_recorder
from integration.models import ConfigurationChange
from p2c.doors import outcome_finish, refused_command_error
from p2c.limits import size_check, size_limit
from p2c.management.arguments import path
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Read an integration configuration written by integration_export (JSON or YAML, told by the file's "
            "extension or its first character), check it with the admin's rules, print the difference from the "
            "current configuration (+ added, - removed, ~ changed, key by key) and apply it in one transaction. "
            "An invalid file changes nothing; the command names each line or key at fault and exits 1. Couplings, "
            "jobs and logs are never touched.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=path, metavar="FILE", help=gettext("The configuration file ('-' reads standard input)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext("Check and print the difference; change nothing.")
        )

    def handle(self, *args, file, dry_run, **options):
        try:
            text = self._read(file)
            outcome = configuration_import(text=text, fmt=format_of(file, text), dry_run=dry_run,
                                           on_applied=history_recorder(door=ConfigurationChange.Door.IMPORT))
        except ConfigurationInvalid as exc:
            for where, message in exc.errors:
                self.stderr.write(f"{where}: {message}" if where else message)
            raise CommandError(
                ngettext("%(file)s: the configuration is not valid (%(count)s error); nothing was changed.",
                         "%(file)s: the configuration is not valid (%(count)s errors); nothing was changed.",
                         len(exc.errors))
                % {"file": file, "count": len(exc.errors)}
            ) from exc
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        for change in outcome.changes:
            self.stdout.write(change.text())
        outcome_finish(self, outcome)

    def _read(self, file):
        """The file's text; one larger than P2C_CONFIGURATION_MAX_BYTES is refused before it is read."""
        limit = size_limit("P2C_CONFIGURATION_MAX_BYTES")
        if file == "-":
            try:
                text = sys.stdin.read(limit + 1)  # characters: more than the limit is more bytes than it too
            except UnicodeDecodeError:
                raise CommandError(gettext("%(file)s is not UTF-8 text.") % {"file": file}) from None
            size_check(len(text), setting="P2C_CONFIGURATION_MAX_BYTES")
            return text
        try:
            with open(file, encoding="utf-8-sig") as handle:  # -sig: a byte-order mark some editors write
                size_check(os.fstat(handle.fileno()).st_size, setting="P2C_CONFIGURATION_MAX_BYTES")
                return handle.read()
        except FileNotFoundError:
            raise CommandError(gettext("No file %(file)s.") % {"file": file}) from None
        except IsADirectoryError:
            raise CommandError(gettext("%(file)s is a directory, not a configuration file.") % {"file": file}) from None
        except UnicodeDecodeError:
            raise CommandError(gettext("%(file)s is not UTF-8 text.") % {"file": file}) from None
        except OSError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: %(strerror)s.") % {"file": file, "strerror": exc.strerror}
            ) from None
