"""Option mappings: ERP code tables (payment terms, shipment methods, shipping agents) ↔ a Sales option set.

Sales option sets are fixed lists, so synchronising an option mapping couples each ERP code to the Sales option
it means, recorded as an entry of the mapping's value map (same name). A code that matches no option by value or
by label, letters and digits compared without case or punctuation, is skipped and logged: the Sales field stays
blank for customers using it (docs/features.md I5). Entries an administrator set by hand are kept.
"""

import re
from operator import itemgetter

from django.utils.translation import gettext_noop

from integration.models import ValueMap, ValueMapEntry
from p2c.said import Joined, counted, said, said_name

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
ERRORS_TOLD = 50  # codes a job's message names (each is also counted skipped)


def _normal(text):
    return _NON_ALNUM.sub("", str(text).lower())


def option_mapping_synchronize(*, plan, job):
    mapping = plan.mapping
    value_map, _ = ValueMap.objects.get_or_create(name=mapping.name)
    field = plan.mapping.crm_model_class()._meta.get_field(mapping.crm_option_field)
    options = {}
    for value, label in field.flatchoices:
        options.setdefault(_normal(value), value)
        options.setdefault(_normal(label), value)
    known = set(value_map.entries.values_list("erp_value", flat=True))
    erp_model = mapping.erp_model_class()
    new_entries, errors = [], []
    job.start(save=False)
    records = [record for page in plan.source.reach.changes(None, fields=["code", "description"]) for record in page]
    for record in sorted(records, key=itemgetter("code")):
        code, description = record["code"], record["description"]
        if code in known:
            job.unchanged += 1
            continue
        option = options.get(_normal(code)) or options.get(_normal(description))
        if option is None:
            job.skipped += 1
            errors.append(said(gettext_noop(
                # Translators: e.g. "Payment Terms 14D matches no Payment terms option in Sales; …" (an ERP table's
                # name, a code of it, the name of a Sales option set).
                "%(model)s %(code)s matches no %(field)s option in Sales; customers with it get a blank option there."
            ), model=said_name(erp_model._meta.verbose_name), code=code, field=said_name(field.verbose_name)))
            continue
        new_entries.append(ValueMapEntry(value_map=value_map, erp_value=code, crm_value=option))
        job.coupled += 1
    if not plan.dry_run:
        ValueMapEntry.objects.bulk_create(new_entries, ignore_conflicts=True)
    job.finish(Joined(tuple(errors[:ERRORS_TOLD]), " ") if errors else counted(
        "%(count)s code coupled to Sales options", "%(count)s codes coupled to Sales options", count=job.coupled),
        limit=2000)
    return job
