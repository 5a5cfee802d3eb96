"""System checks of the project's own rules (``manage.py check``, run before every command and by the tests)."""

from django.contrib import admin
from django.core import checks

from p2c.admin_extensions import ExtendedModelAdmin


def _actions_and_owners(modeladmin):
    """``{name: (function, whose has_<permission>_permission() it needs)}`` of every list action ``modeladmin`` can
    offer: the site's, its own ``actions``, and those its extensions add per request (p2c.admin_extensions)."""
    found = {name: (func, modeladmin) for func, name, _description in modeladmin._get_base_actions()}
    if isinstance(modeladmin, ExtendedModelAdmin):
        found.update({name: (func, owner) for name, func, owner in modeladmin.extension_actions()})
    return found


def admin_actions_of(modeladmin):
    """``(name, function)`` of every list action ``modeladmin`` can offer (`_actions_and_owners`)."""
    return sorted((name, func) for name, (func, _owner) in _actions_and_owners(modeladmin).items())


@checks.register(checks.Tags.admin)
def admin_actions_declare_permissions(app_configs=None, **kwargs):
    """Every admin action declares the permissions it needs (``@admin.action(permissions=[...])``, with a
    ``has_<permission>_permission`` method on its ModelAdmin): an action without them runs for anyone who may view
    the list (docs/decisions.md#bounded-and-total-doors)."""
    errors = []
    for model, modeladmin in admin.site._registry.items():
        for name, (func, owner) in sorted(_actions_and_owners(modeladmin).items()):
            permissions = getattr(func, "allowed_permissions", ())
            if not permissions:
                errors.append(checks.Error(
                    f"The admin action {name!r} of {type(modeladmin).__qualname__} ({model._meta.label}) declares no "
                    f"permissions.", hint="Use @admin.action(permissions=[...]).", obj=type(modeladmin),
                    id="p2c.E010"))
                continue
            for permission in permissions:
                if not callable(getattr(owner, f"has_{permission}_permission", None)):
                    errors.append(checks.Error(
                        f"The admin action {name!r} of {type(modeladmin).__qualname__} needs the permission "
                        f"{permission!r}, which it has no has_{permission}_permission() for.", obj=type(modeladmin),
                        id="p2c.E011"))
    return errors
