"""What an app above (the integration) adds to a ModelAdmin or an inline of an app below (Sales, ERP), asked in the
admin's own hooks on each request.

An extension is an `AdminExtension` class registered in p2c.extensions under ``ADMIN_EXTENSION`` (for the ModelAdmin
of a model, or of every model of an app label) or ``INLINE_EXTENSION`` (for the inlines that edit a model's records).
An admin built on `ExtendedModelAdmin` or `ExtendedInline` makes one of each for itself the first time one of its
hooks asks (a request, or its URLs), and every hook hands what the admin made to each extension in turn, the app's
then the model's, in the order registered. Nothing is read when the admin classes are built: they are the same
whatever the order the apps are made ready in.
"""

from functools import partial

from django.contrib.admin.options import IS_POPUP_VAR
from django.utils.text import capfirst

from p2c.extensions import ADMIN_ACTION, ADMIN_EXTENSION, INLINE_EXTENSION, extensions_of


class AdminExtension:
    """Made for one ModelAdmin or inline (``admin``). Each hook receives what the admin, and the extensions before
    this one, made, and returns it, changed or not. ``display_methods``: the names of this extension's methods that
    a column or a field of the admin names (the admin answers those names with them)."""

    display_methods: tuple[str, ...] = ()
    # The names of the list actions (its methods, with @admin.action) its get_actions may add: the system check
    # p2c.checks reads their declared permissions, which this extension answers (has_<permission>_permission).
    action_names: tuple[str, ...] = ()

    def __init__(self, admin):
        self.admin = admin
        self.model = admin.model

    # A ModelAdmin's
    def get_actions(self, request, actions):
        return actions

    def get_list_display(self, request, list_display):
        return list_display

    def get_list_filter(self, request, list_filter):
        return list_filter

    def get_changelist(self, request, changelist):
        return changelist

    def get_changelist_instance(self, request, changelist):
        return changelist

    def get_urls(self):
        """URLs put before the admin's own."""
        return []

    def change_view(self, view, request, object_id, form_url="", extra_context=None):
        """Around the admin's ``change_view`` (``view``: the admin's, or the next extension's)."""
        return view(request, object_id, form_url, extra_context)

    def changelist_view(self, view, request, extra_context=None):
        """Around the admin's ``changelist_view``."""
        return view(request, extra_context)

    # An inline's
    def get_formset(self, request, obj, formset):
        return formset

    def get_fields(self, request, obj, fields):
        return fields

    def get_readonly_fields(self, request, obj, readonly_fields):
        return readonly_fields


class _Extended:
    extension_kind = None

    def admin_extensions(self):
        """The extensions registered for this admin's app and model, made for it on first use."""
        made = self.__dict__.get("_admin_extensions")
        if made is None:
            model = object.__getattribute__(self, "model")  # never through __getattr__ below
            made = self.__dict__["_admin_extensions"] = [
                extension(self) for key in (model._meta.app_label, model)
                for extension in extensions_of(key=key, kind=self.extension_kind)]
        return made

    def __getattr__(self, name):
        # Django looks a column's or a field's name up on the admin: an extension's display method answers it.
        if not name.startswith("_"):
            for extension in self.admin_extensions():
                if name in extension.display_methods:
                    return getattr(extension, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class ExtendedModelAdmin(_Extended):
    """ModelAdmin mixin: its hooks ask the extensions registered for its model and its app, and it offers the list
    actions registered for its model (``ADMIN_ACTION``) after its own, under the permissions they declare."""

    extension_kind = ADMIN_EXTENSION

    def extension_actions(self):
        """``(name, function, whose has_<permission>_permission() it needs)`` of every list action the registry
        may add to this admin on a request."""
        found = [(func.__name__, func, self) for func in extensions_of(key=self.model, kind=ADMIN_ACTION)]
        for extension in self.admin_extensions():
            found += [(name, getattr(type(extension), name), extension) for name in extension.action_names]
        return found

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is not None and IS_POPUP_VAR not in request.GET:  # as Django offers its own
            for func in extensions_of(key=self.model, kind=ADMIN_ACTION):
                if all(getattr(self, f"has_{permission}_permission")(request)
                       for permission in getattr(func, "allowed_permissions", ())):
                    name = func.__name__
                    actions[name] = (func, name, getattr(func, "short_description", capfirst(name.replace("_", " "))))
        for extension in self.admin_extensions():
            actions = extension.get_actions(request, actions)
        return actions

    def get_list_display(self, request):
        list_display = super().get_list_display(request)
        for extension in self.admin_extensions():
            list_display = extension.get_list_display(request, list_display)
        return list_display

    def get_list_filter(self, request):
        list_filter = super().get_list_filter(request)
        for extension in self.admin_extensions():
            list_filter = extension.get_list_filter(request, list_filter)
        return list_filter

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        for extension in self.admin_extensions():
            changelist = extension.get_changelist(request, changelist)
        return changelist

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for extension in self.admin_extensions():
            changelist = extension.get_changelist_instance(request, changelist)
        return changelist

    def get_urls(self):
        return [*(url for extension in self.admin_extensions() for url in extension.get_urls()), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        view = super().change_view
        for extension in self.admin_extensions():  # the last registered outermost, as the last mixin in front was
            view = partial(extension.change_view, view)
        return view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        view = super().changelist_view
        for extension in self.admin_extensions():
            view = partial(extension.changelist_view, view)
        return view(request, extra_context)


class ExtendedInline(_Extended):
    """InlineModelAdmin mixin: its hooks ask the extensions registered for its model and its app."""

    extension_kind = INLINE_EXTENSION

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for extension in self.admin_extensions():
            formset = extension.get_formset(request, obj, formset)
        return formset

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        for extension in self.admin_extensions():
            fields = extension.get_fields(request, obj, fields)
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly_fields = super().get_readonly_fields(request, obj)
        for extension in self.admin_extensions():
            readonly_fields = extension.get_readonly_fields(request, obj, readonly_fields)
        return readonly_fields
