"""Where a mapping's runs left off reading each side: a watermark on the mapping for a side in this process's
database (a time), an opaque cursor in `SideCursor` for another (a Web API's delta link)."""

from integration.models import SideCursor

CHANGES, DELETIONS = "changes", "deletions"


def _name(side, what):
    return side.key if what == CHANGES else f"{side.key}_{what}"


def cursor_get(mapping, side, what):
    """The cursor ``what`` (`CHANGES` or `DELETIONS`) of ``side`` (a `plan.Side`) the last whole run left, or None."""
    if side.reach.database is not None:
        return getattr(mapping, side.watermark_field if what == CHANGES else side.deletions_checked_field, None)
    return (SideCursor.objects.filter(table_mapping_id=mapping.pk, name=_name(side, what))
            .values_list("value", flat=True).first())


def cursor_set(mapping, side, what, value):
    """Keep ``value`` as the cursor ``what`` of ``side`` (not in this process's database) for the next run."""
    SideCursor.objects.update_or_create(table_mapping_id=mapping.pk, name=_name(side, what),
                                        defaults={"value": value})
