import sys

from django.core.management.base import BaseCommand, CommandError

from integration.configuration import ConfigurationInvalid, configuration_import, format_of
from p2c.doors import outcome_finish, refused_command_error
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = ("Read an integration configuration written by integration_export (JSON or YAML, told by the file's "
            "extension or its first character), check it with the admin's rules, print the difference from the "
            "current configuration (+ added, - removed, ~ changed, key by key) and apply it in one transaction. "
            "An invalid file changes nothing; the command names each line or key at fault and exits 1. Couplings, "
            "jobs and logs are never touched.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="The configuration file ('-' reads standard input).")
        parser.add_argument("--dry-run", action="store_true", help="Check and print the difference; change nothing.")

    def handle(self, *args, file, dry_run, **options):
        text = self._read(file)
        try:
            outcome = configuration_import(text=text, fmt=format_of(file, text), dry_run=dry_run)
        except ConfigurationInvalid as exc:
            for where, message in exc.errors:
                self.stderr.write(f"{where}: {message}" if where else message)
            raise CommandError(f"{file}: the configuration is not valid ({len(exc.errors)} error(s)); nothing was "
                               "changed.") from exc
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        for change in outcome.changes:
            self.stdout.write(change.text())
        outcome_finish(self, outcome)

    def _read(self, file):
        if file == "-":
            return sys.stdin.read()
        try:
            with open(file, encoding="utf-8-sig") as handle:  # -sig: a byte-order mark some editors write
                return handle.read()
        except FileNotFoundError:
            raise CommandError(f"No file {file}.") from None
        except IsADirectoryError:
            raise CommandError(f"{file} is a directory, not a configuration file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text.") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
