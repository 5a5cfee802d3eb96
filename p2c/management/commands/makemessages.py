"""``manage.py makemessages`` that also extracts the plural sentences stored as what they mean
(``counted(singular, plural, count=…)``, p2c.said), as it extracts ``ngettext``."""

from django.core.management.commands import makemessages
from django.utils.translation import gettext


class Command(makemessages.Command):
    help = gettext("Extract the translatable strings into the catalogues (Django's makemessages), with the counted "
                   "sentences stored as what they mean (p2c.said.counted).")
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=counted:1,2"]
