"""Template context the project adds to every page."""

from p2c.extensions import admin_index_templates


def admin_index(request):
    """What the apps above add to the admin index and app pages (p2c.extensions): none without them."""
    return {"admin_index_templates": admin_index_templates()}
