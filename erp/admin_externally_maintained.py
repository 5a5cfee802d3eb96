"""docs/features.md P5 in the ERP admin: an externally maintained customer or contact shows the fields the Sales
synchronisation writes read-only, with a note that the record is maintained in Sales. Which fields those are is
the integration's to say (p2c.extensions.externally_maintained_fields)."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.utils.translation import gettext

from p2c.extensions import externally_maintained_fields


class ExternallyMaintainedAdminMixin:
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and getattr(obj, "externally_maintained", False):
            fields += [name for name in externally_maintained_fields(type(obj)) if name not in fields]
        return fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None and getattr(obj, "externally_maintained", False) and request.method == "GET":
            messages.warning(
                request,
                (
                    gettext(
                        "%(verbose_name)s %(obj)s is maintained in Sales (externally maintained): the fields the Sales "
                        "synchronisation writes are read-only here; change them in Sales."
                    )
                    % {"verbose_name": obj._meta.verbose_name.capitalize(), "obj": obj}
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)
