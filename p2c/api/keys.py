"""Natural keys: how the API names a record, in URLs and in the foreign keys it reads and writes."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models


def natural_key(model):
    """The field that names a ``model`` record to other systems.

    Sales records are named by their UUID primary key (a Dataverse GUID); ERP records by their unique ``no`` or
    ``code``, else by their unique ``system_id``; anything else by its primary key.
    """
    pk = model._meta.pk
    if isinstance(pk, models.UUIDField):
        return pk.name
    for name in ("no", "code", "system_id"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.unique:
            return name
    return pk.name
