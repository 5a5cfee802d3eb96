from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from p2c.catalogues import messages_check


class Command(BaseCommand):
    help = gettext(
        "Check that the French, Swedish and Dutch catalogues are complete and up to date with the code: lists every "
        "string not translated, changed or gone, and exits 1 if there is one (`make messages` updates the catalogues; "
        "needs GNU gettext)."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        problems = messages_check(stdout=self.stdout)
        if problems:
            raise CommandError(ngettext("%(count)s problem in the translation catalogues (see above).",
                                        "%(count)s problems in the translation catalogues (see above).",
                                        problems) % {"count": problems})
        self.stdout.write(gettext("The catalogues are complete and up to date."))
