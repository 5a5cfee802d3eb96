"""Is Active Customer (SPEC S3, P3): true exactly while a contact is the customer of a quote, order or invoice."""

from p2c.utils import chunked

BATCH_SIZE = 5000


def contacts_with_sales_activity(*, contact_ids):
    """The subset of ``contact_ids`` that are the customer of at least one quote, order or invoice."""
    from .models import Invoice, Quote, SalesOrder

    active = set()
    for model in (Quote, SalesOrder, Invoice):
        active.update(
            model.objects.filter(customer_contact_id__in=contact_ids).values_list("customer_contact_id", flat=True)
        )
    return active


def contacts_refresh_active_customer(*, contact_ids):
    """Set or clear Is Active Customer on the given contacts, in a constant number of queries per batch.

    Only contacts whose flag really changes are written, so their ``modifiedon`` moves (and the integration
    sends them) only when the flag does.
    """
    from .models import Contact

    for batch in chunked(set(contact_ids) - {None}, BATCH_SIZE):
        batch = set(batch)
        active = contacts_with_sales_activity(contact_ids=batch)
        Contact.objects.filter(pk__in=active, is_active_customer=False).update(is_active_customer=True)
        Contact.objects.filter(pk__in=batch - active, is_active_customer=True).update(is_active_customer=False)
