"""Index definitions shared by the apps' models."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


def indexes_when_set(**names):
    """Indexes of nullable foreign keys ({index name suffix: field}) holding only the rows where the key is set.

    They serve every lookup by the key (``= x`` implies that it is set) and the PROTECT and SET_NULL checks of a
    deletion; a full index stores the NULLs too, so every insert of a record without the link paid for it.
    Give the fields ``db_index=False``. The names take the model's (``erp_customer_salesperson``).
    """
    return [models.Index(fields=[field], name=f"%(app_label)s_%(class)s_{suffix}",
                         condition=Q(**{f"{field}__isnull": False}))
            for suffix, field in names.items()]


def indexes_case_insensitive(**names):
    """Indexes of ``LOWER(field)`` ({index name suffix: field}), for the match-based coupling's case-insensitive
    lookups (integration/engine/matching.py: ``LOWER(field) IN (...)`` per chunk, which a plain index does not
    serve: without one each chunk reads the whole table). The names take the model's (``erp_customer_name_ci``).
    """
    return [models.Index(Lower(field), name=f"%(app_label)s_%(class)s_{suffix}") for suffix, field in names.items()]
