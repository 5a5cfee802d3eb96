"""The prospect-to-cash upgrade step (docs/features.md P3): numbers for existing accounts and contacts, Is Active
Customer.

- Accounts and contacts without an account / contact number get one from the same sequences new records use
  (``ACC-01000-XXXXXX``, ``CON-01000-XXXXXX``): one allocation and one bulk UPDATE per batch.
- Is Active Customer is set for contacts that are the customer of a quote, order or invoice, and cleared for
  the others (the rule of crm.customers), set-based per primary-key window: only rows whose flag changes are
  written.

Idempotent: a second run finds nothing to number and no flag to change, and writes nothing. Batched by primary
key (keyset pages), so memory stays flat and each batch is a short transaction.
"""

from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm.models import Account, Contact, Invoice, Quote, SalesOrder
from crm.numbering import numbers_allocate

BATCH_SIZE = 5000


def _missing(field):
    return Q(**{field: ""}) | Q(**{f"{field}__isnull": True})


def records_number(*, model, field, prefix, batch_size=BATCH_SIZE, progress=None, step=""):
    """Give every ``model`` row whose ``field`` is blank a number with ``prefix``. Returns how many.

    Per batch: one read of blank ids, one allocation of consecutive numbers, and one prepared UPDATE run for
    every row (``executemany``: pipelined by the driver) that writes only rows still blank, so a concurrent
    upgrade can never overwrite a number (it only wastes the one it allocated; numbers are never reused).
    ``modifiedon`` moves (the integration sends the numbered rows) and ``modifiedby`` is cleared (a system
    write), as RecordQuerySet.update does. Django's bulk_update is avoided: its CASE expression costs seconds
    per thousand rows to build.
    """
    using = router.db_for_write(model)
    connection = connections[using]
    qn = connection.ops.quote_name
    meta = model._meta
    column = qn(meta.get_field(field).column)
    modified = meta.get_field(model.MODIFIED_FIELD)
    assignments = [f"{column} = %s", f"{qn(modified.column)} = %s"]
    if getattr(model, "MODIFIED_BY_FIELD", None):
        assignments.append(f"{qn(meta.get_field(model.MODIFIED_BY_FIELD).column)} = NULL")
    sql = (f"UPDATE {qn(meta.db_table)} SET {', '.join(assignments)} "
           f"WHERE {qn(meta.pk.column)} = %s AND ({column} = '' OR {column} IS NULL)")
    done = 0
    while True:
        ids = list(model.objects.filter(_missing(field)).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return done
        now = modified.get_db_prep_value(timezone.now(), connection)
        params = [
            (number, now, meta.pk.get_db_prep_value(pk, connection))
            for pk, number in zip(ids, numbers_allocate(prefix=prefix, count=len(ids)), strict=True)
        ]
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement per batch: UPDATE ... FROM (VALUES ...), the same guard on still-blank rows.
                values = ", ".join(["(%s::uuid, %s)"] * len(params))
                set_sql = ", ".join([f"{column} = v.number", *assignments[1:]])
                cursor.execute(
                    f"UPDATE {qn(meta.db_table)} AS t SET {set_sql} FROM (VALUES {values}) AS v(id, number) "
                    f"WHERE t.{qn(meta.pk.column)} = v.id AND (t.{column} = '' OR t.{column} IS NULL)",
                    [now, *[x for number, _now, pk in params for x in (pk, number)]],
                )
            else:
                cursor.executemany(sql, params)
            written = cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else len(ids)
        done += written
        if progress:
            progress(step=step or f"{meta.verbose_name_plural.lower()} numbered", done=len(ids))


def contacts_flag_active_customers(*, batch_size=BATCH_SIZE, progress=None):
    """Set Is Active Customer from sales activity for every contact, one primary-key window at a time.

    Per window: one read of the window's upper bound and two set-based UPDATEs (``EXISTS`` a quote, order or
    invoice naming the contact), which write only the contacts whose flag changes, so ``modifiedon`` moves
    (and the integration sends them) only for those. The same rule as crm.customers, without carrying every id
    through Python. Returns the number of windows.
    """
    activity = Q()
    for model in (Quote, SalesOrder, Invoice):
        activity |= Exists(model.objects.filter(customer_contact_id=OuterRef("pk")))
    windows, last = 0, None
    while True:
        remaining = Contact.objects.all() if last is None else Contact.objects.filter(pk__gt=last)
        bound = list(remaining.order_by("pk").values_list("pk", flat=True)[batch_size - 1:batch_size])
        window = remaining.filter(pk__lte=bound[0]) if bound else remaining
        with transaction.atomic():
            window.filter(is_active_customer=False).filter(activity).update(is_active_customer=True)
            window.filter(is_active_customer=True).exclude(activity).update(is_active_customer=False)
        windows += 1
        if progress:
            progress(step="contacts checked for sales activity", done=batch_size if bound else window.count())
        if not bound:
            return windows
        last = bound[0]


def p2c_upgrade(*, batch_size=BATCH_SIZE, progress=None):
    """Run the upgrade step; return counts. ``progress(step=, done=)`` is called after every batch."""
    before_active = Contact.objects.filter(is_active_customer=True).count()
    accounts = records_number(model=Account, field="account_number", prefix="ACC", batch_size=batch_size,
                              progress=progress)
    contacts = records_number(model=Contact, field="contact_number", prefix="CON", batch_size=batch_size,
                              progress=progress)
    contacts_flag_active_customers(batch_size=batch_size, progress=progress)
    after_active = Contact.objects.filter(is_active_customer=True).count()
    return {
        "accounts_numbered": accounts,
        "contacts_numbered": contacts,
        "active_customers": after_active,
        "active_customers_changed": after_active - before_active,
    }


def upgrade_totals():
    """What the progress bars count to: blank numbers, then every contact."""
    return {
        "accounts numbered": Account.objects.filter(_missing("account_number")).count(),
        "contacts numbered": Contact.objects.filter(_missing("contact_number")).count(),
        "contacts checked for sales activity": Contact.objects.count(),
    }
