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

from .job_log import ChunkResult
from .work import ChunkWork

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
ERRORS_TOLD = 50  # codes a job's message names (each is also counted skipped)


def _normal(text):
    return _NON_ALNUM.sub("", str(text).lower())


class OptionCoupling(ChunkWork):
    """An option mapping's run (`sync.DirectionRun`'s work): each chunk of ERP codes coupled to the Sales options
    they mean, the new entries written unless the run is dry. Each code counts coupled, unchanged (an entry
    exists) or skipped (no option matches it: named in the job's message, in the codes' order)."""

    writes_records = False  # value map entries, no record nor coupling
    message_limit = 2000

    def reads(self):
        mapping = self.plan.mapping
        self.value_map, _ = ValueMap.objects.get_or_create(name=mapping.name)
        self.field = mapping.crm_model_class()._meta.get_field(mapping.crm_option_field)
        self.options = {}
        for value, label in self.field.flatchoices:
            self.options.setdefault(_normal(value), value)
            self.options.setdefault(_normal(label), value)
        self.known = set(self.value_map.entries.values_list("erp_value", flat=True))
        self.errors = []  # (code, message)
        return self.plan.source.reach.record_reads(), frozenset()

    def chunk(self, rows, written):
        result, new_entries = ChunkResult(), []
        erp_model = self.plan.mapping.erp_model_class()
        for record in rows:
            code, description = record.code, record.description
            if code in self.known:
                result.add("unchanged")
                continue
            option = self.options.get(_normal(code)) or self.options.get(_normal(description))
            if option is None:
                result.add("skipped")
                self.errors.append((code, said(gettext_noop(
                    # Translators: e.g. "Payment Terms 14D matches no Payment terms option in Sales; …" (an ERP
                    # table's name, a code of it, the name of a Sales option set).
                    "%(model)s %(code)s matches no %(field)s option in Sales; customers with it get a blank option "
                    "there."
                ), model=said_name(erp_model._meta.verbose_name), code=code,
                    field=said_name(self.field.verbose_name))))
                continue
            new_entries.append(ValueMapEntry(value_map=self.value_map, erp_value=code, crm_value=option))
            result.add("coupled")
        if not self.plan.dry_run:
            ValueMapEntry.objects.bulk_create(new_entries, ignore_conflicts=True)
        written(rows, result)

    def closing(self, log):
        errors = [message for _, message in sorted(self.errors, key=itemgetter(0))]
        if errors:
            return Joined(tuple(errors[:ERRORS_TOLD]), " ")
        return counted("%(count)s code coupled to Sales options", "%(count)s codes coupled to Sales options",
                       count=self.job.coupled)
