"""System checks of the project's own rules (``manage.py check``, run before every command and by the tests)."""

from django.contrib import admin
from django.core import checks


def admin_actions_of(modeladmin):
    """``(name, function)`` of every list action ``modeladmin`` can offer: the site's, its own ``actions``, and those
    it adds per request (``coupling_action_names``: integration.admin.coupling)."""
    found = {name: func for func, name, _description in modeladmin._get_base_actions()}
    for name in getattr(modeladmin, "coupling_action_names", ()):
        found[name] = getattr(type(modeladmin), name)
    return sorted(found.items())


@checks.register(checks.Tags.admin)
def admin_actions_declare_permissions(app_configs=None, **kwargs):
    """Every admin action declares the permissions it needs (``@admin.action(permissions=[...])``, with a
    ``has_<permission>_permission`` method on its ModelAdmin): an action without them runs for anyone who may view
    the list (docs/decisions.md#bounded-and-total-doors)."""
    errors = []
    for model, modeladmin in admin.site._registry.items():
        for name, func in admin_actions_of(modeladmin):
            permissions = getattr(func, "allowed_permissions", ())
            if not permissions:
                errors.append(checks.Error(
                    f"The admin action {name!r} of {type(modeladmin).__qualname__} ({model._meta.label}) declares no "
                    f"permissions.", hint="Use @admin.action(permissions=[...]).", obj=type(modeladmin),
                    id="p2c.E010"))
                continue
            for permission in permissions:
                if not callable(getattr(modeladmin, f"has_{permission}_permission", None)):
                    errors.append(checks.Error(
                        f"The admin action {name!r} of {type(modeladmin).__qualname__} needs the permission "
                        f"{permission!r}, which it has no has_{permission}_permission() for.", obj=type(modeladmin),
                        id="p2c.E011"))
    return errors
