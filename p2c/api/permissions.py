"""Django model permissions for the API, reads included."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """``view_`` to read (GET, HEAD, OPTIONS), ``add_``/``change_``/``delete_`` to write; never anonymous.

    A view or one of its actions can ask for more with ``extra_permissions`` (full names such as
    ``"integration.change_coupling"``, or ``%(app_label)s`` / ``%(model_name)s`` patterns): set it on the view,
    or per action with ``@action(..., extra_permissions=[...])``.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        extra = getattr(view, "extra_permissions", ())
        if not extra:
            return True
        model = self._queryset(view).model
        names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return request.user.has_perms([perm % names for perm in extra])


def view_permission_and(extra):
    """A permission class for an operation on a record: the model's view permission plus ``extra`` (a full
    permission name such as ``"erp.add_customer"``), whatever the HTTP method."""

    class RecordOperationPermission(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated):
                return False
            meta = view.queryset.model._meta
            return user.has_perms([f"{meta.app_label}.view_{meta.model_name}", extra])

    return RecordOperationPermission
