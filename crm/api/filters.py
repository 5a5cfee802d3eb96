"""FilterSets of the CRM models, one per table, each given its filters by the type rule of
``p2c.api.filters.lookups_for``: exact and range lookups, foreign keys by natural key. Synchronised records
(a modified timestamp) have a ``RecordFilterSet``, which also takes ``modified_after``, ``modified_before`` and
``coupled``; the others an ``ApiFilterSet`` (tests/api/test_tables.py holds every table to that).

Named here: the unindexed text fields that get an exact filter too.
"""

from crm import models
from p2c.api.filters import RecordFilterSet, lookups_for

ADDRESS1 = ("address1_city", "address1_postalcode", "address1_country")
BILL_TO_SHIP_TO = (
    "billto_city", "billto_postalcode", "billto_country",
    "shipto_city", "shipto_postalcode", "shipto_country",
)


class CrmSystemUserFilterSet(RecordFilterSet):
    class Meta:
        model = models.SystemUser
        fields = lookups_for(models.SystemUser)


class CrmTransactionCurrencyFilterSet(RecordFilterSet):
    class Meta:
        model = models.TransactionCurrency
        fields = lookups_for(models.TransactionCurrency)


class CrmUnitGroupFilterSet(RecordFilterSet):
    class Meta:
        model = models.UnitGroup
        fields = lookups_for(models.UnitGroup)


class CrmUnitFilterSet(RecordFilterSet):
    class Meta:
        model = models.Unit
        fields = lookups_for(models.Unit)


class CrmPriceLevelFilterSet(RecordFilterSet):
    class Meta:
        model = models.PriceLevel
        fields = lookups_for(models.PriceLevel)


class CrmProductFilterSet(RecordFilterSet):
    class Meta:
        model = models.Product
        fields = lookups_for(models.Product)


class CrmProductPriceLevelFilterSet(RecordFilterSet):
    class Meta:
        model = models.ProductPriceLevel
        fields = lookups_for(models.ProductPriceLevel)


class CrmAccountFilterSet(RecordFilterSet):
    class Meta:
        model = models.Account
        fields = lookups_for(models.Account, text=ADDRESS1)


class CrmContactFilterSet(RecordFilterSet):
    class Meta:
        model = models.Contact
        fields = lookups_for(models.Contact, text=ADDRESS1)


class CrmOpportunityFilterSet(RecordFilterSet):
    class Meta:
        model = models.Opportunity
        fields = lookups_for(models.Opportunity)


class CrmQuoteFilterSet(RecordFilterSet):
    class Meta:
        model = models.Quote
        fields = lookups_for(models.Quote, text=BILL_TO_SHIP_TO)


class CrmQuoteDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.QuoteDetail
        fields = lookups_for(models.QuoteDetail)


class CrmSalesOrderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesOrder
        fields = lookups_for(models.SalesOrder, text=BILL_TO_SHIP_TO)


class CrmSalesOrderDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesOrderDetail
        fields = lookups_for(models.SalesOrderDetail)


class CrmInvoiceFilterSet(RecordFilterSet):
    class Meta:
        model = models.Invoice
        fields = lookups_for(models.Invoice, text=BILL_TO_SHIP_TO)


class CrmInvoiceDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.InvoiceDetail
        fields = lookups_for(models.InvoiceDetail)
