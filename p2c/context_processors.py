"""Template context the project adds to every page."""

from django.conf import settings

from p2c.extensions import admin_index_templates


def admin_index(request):
    """What the apps above add to the admin index and app pages (p2c.extensions): none without them; and the
    languages of the header's switch, each named in its own words (``get_available_languages`` would translate
    them: "Anglais" beside "Svenska")."""
    return {"admin_index_templates": admin_index_templates(), "p2c_languages": settings.LANGUAGES}
