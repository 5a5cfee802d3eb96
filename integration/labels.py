"""How messages and screens name a record: the one place for a record's label.

- `record_label`: ``customer C00010`` — the model's verbose name and the record's ``str`` (the API's and the
  coupling operations' messages);
- `record_title`: ``Customer C00010 (Adatum Corporation)`` — its natural key and name (the engine's messages);
- `record_labels`: the screens' labels of many records at once, one query per table;
- `conflict_label`, `sales_order_label` (`sales_order_label_said`): the labels of a synchronisation conflict and
  of a Sales order.

Imports models and the engine's field helpers only (the engine may import it).
"""

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext_noop

from integration.catalogue.fields import natural_key_field
from p2c.said import said, said_name

NAME_FIELDS = ("name", "fullname", "full_name", "description")


def record_label(record):
    """``customer C00010``: the model's verbose name and the record's text."""
    return f"{record._meta.verbose_name} {record}"


def record_label_by_id(model, pk):
    """`record_label` of ``model``'s record ``pk``, or None when there is none. One query."""
    record = model.objects.filter(pk=pk).first()
    return None if record is None else record_label(record)


def record_title(obj):
    """``Customer C00010 (Adatum Corporation)`` — how the engine's messages name a record."""
    model = type(obj)
    key = natural_key_field(model)
    value = getattr(obj, key, None) if key else None
    name = next((getattr(obj, f) for f in ("name", "full_name", "fullname", "description")
                 if f != key and getattr(obj, f, "")), "")
    label = f"{capfirst(model._meta.verbose_name)} {value or obj.pk}"
    return f"{label} ({name})" if name else label


def record_title_said(obj):
    """`record_title` as what it means (p2c.said): the table's name told in the reader's language."""
    model = type(obj)
    key = natural_key_field(model)
    value = getattr(obj, key, None) if key else None
    name = next((getattr(obj, f) for f in ("name", "full_name", "fullname", "description")
                 if f != key and getattr(obj, f, "")), "")
    table = said_name(model._meta.verbose_name)
    if name:
        # Translators: how a message names a record: its table, its number (or key), its name.
        return said(gettext_noop("%(table)s %(key)s (%(name)s)"), table=table, key=str(value or obj.pk), name=str(name))
    # Translators: how a message names a record: its table, then its number (or key).
    return said(gettext_noop("%(table)s %(key)s"), table=table, key=str(value or obj.pk))


def record_title_attnames(model):
    """The columns (attnames) `record_title` reads of a ``model`` record: its natural key and its names."""
    names = [natural_key_field(model), *NAME_FIELDS]
    return [model._meta.get_field(name).attname for name in names if name and _has_field(model, name)]


def _has_field(model, name):
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def record_labels(label_ids):
    """{(model label, pk): text} for records given as {model label: ids}: one query per table, no relations read."""
    labels = {}
    for label, ids in label_ids.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        key = natural_key_field(model)
        names = [f for f in NAME_FIELDS if _has_field(model, f) and f != key]
        fields = ["pk", *([key] if key else []), *names[:1]]
        for row in model.objects.filter(pk__in=list(ids)).values_list(*fields):
            parts = [str(v) for v in row[1:] if v not in (None, "")]
            labels[(label, row[0])] = " ".join(parts[:1]) + (f" ({parts[1]})" if len(parts) > 1 else "") or str(row[0])
    return labels


def conflict_label(conflict):
    """``Conflict #12 (erp.Customer 10)``."""
    return f"Conflict #{conflict.pk} ({conflict.coupling.erp_model} {conflict.coupling.erp_id})"


def sales_order_label(order):
    """``Sales order SO-1001 (Bikes for Adatum)``, in the active language."""
    return str(sales_order_label_said(order))


def sales_order_label_said(order):
    """`sales_order_label` as what it means (p2c.said), told in the reader's language."""
    if order.name:
        # Translators: a Sales order's number, then its name.
        return said(gettext_noop("Sales order %(number)s (%(name)s)"), number=str(order.number or order.pk),
                    name=order.name)
    return said(gettext_noop("Sales order %(number)s"), number=str(order.number))
