"""Django's own admin strings that its Dutch catalogue lacks (Django 5.2), given entries in the project's catalogues so
that the admin reads Dutch throughout (docs/decisions.md#messages-stored-as-what-they-mean: "Add link", "Model name"
were English on Dutch pages). Marked here only for `makemessages`; the admin's templates translate them, and the
project's catalogues come first (LOCALE_PATHS). The French and Swedish entries repeat Django's own translations."""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_STRINGS_MISSING_IN_DUTCH = (
    gettext_noop("Add link"),
    gettext_noop("Model name"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),  # noqa: RUF001 (Django's msgid, its apostrophe)
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),  # noqa: RUF001
)
