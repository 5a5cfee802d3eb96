"""FilterSets of the ERP models, one per table, each given its filters by the type rule of
``p2c.api.filters.lookups_for``: exact and range lookups, foreign keys by natural key. Synchronised records
(a modified timestamp) have a ``RecordFilterSet``, which also takes ``modified_after``, ``modified_before`` and
``coupled``; the others an ``ApiFilterSet`` (tests/api/test_tables.py holds every table to that).

Named here: the unindexed text fields (places, groups, document numbers) that get an exact filter too.
"""

from erp import models
from p2c.api.filters import ApiFilterSet, RecordFilterSet, lookups_for

ADDRESS = ("city", "post_code", "country_region_code", "language_code")
BILL_TO_SHIP_TO = (
    "bill_to_city", "bill_to_post_code", "bill_to_country_region_code",
    "ship_to_city", "ship_to_post_code", "ship_to_country_region_code",
    "external_document_no",
)
SALES_GROUPS = ("customer_group", "site", "warehouse")


class ErpNoSeriesFilterSet(ApiFilterSet):
    class Meta:
        model = models.NoSeries
        fields = lookups_for(models.NoSeries)


class ErpBusinessRelationFilterSet(ApiFilterSet):
    class Meta:
        model = models.BusinessRelation
        fields = lookups_for(models.BusinessRelation)


class ErpCurrencyFilterSet(RecordFilterSet):
    class Meta:
        model = models.Currency
        fields = lookups_for(models.Currency)


class ErpUnitOfMeasureFilterSet(RecordFilterSet):
    class Meta:
        model = models.UnitOfMeasure
        fields = lookups_for(models.UnitOfMeasure)


class ErpCustomerPriceGroupFilterSet(RecordFilterSet):
    class Meta:
        model = models.CustomerPriceGroup
        fields = lookups_for(models.CustomerPriceGroup)


class ErpPaymentTermsFilterSet(RecordFilterSet):
    class Meta:
        model = models.PaymentTerms
        fields = lookups_for(models.PaymentTerms)


class ErpShipmentMethodFilterSet(RecordFilterSet):
    class Meta:
        model = models.ShipmentMethod
        fields = lookups_for(models.ShipmentMethod)


class ErpShippingAgentFilterSet(RecordFilterSet):
    class Meta:
        model = models.ShippingAgent
        fields = lookups_for(models.ShippingAgent)


class ErpCustomerTemplateFilterSet(RecordFilterSet):
    class Meta:
        model = models.CustomerTemplate
        fields = lookups_for(models.CustomerTemplate, text=("language_code", *SALES_GROUPS))


class ErpSalespersonPurchaserFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalespersonPurchaser
        fields = lookups_for(models.SalespersonPurchaser)


class ErpContactFilterSet(RecordFilterSet):
    class Meta:
        model = models.Contact
        fields = lookups_for(models.Contact, text=ADDRESS)


class ErpCustomerFilterSet(RecordFilterSet):
    class Meta:
        model = models.Customer
        fields = lookups_for(models.Customer, text=(*ADDRESS, *SALES_GROUPS))


class ErpVendorFilterSet(RecordFilterSet):
    class Meta:
        model = models.Vendor
        fields = lookups_for(models.Vendor, text=ADDRESS)


class ErpBankAccountFilterSet(RecordFilterSet):
    class Meta:
        model = models.BankAccount
        fields = lookups_for(models.BankAccount, text=ADDRESS)


class ErpContactBusinessRelationFilterSet(ApiFilterSet):
    class Meta:
        model = models.ContactBusinessRelation
        fields = lookups_for(models.ContactBusinessRelation, text=("no",))


class ErpItemFilterSet(RecordFilterSet):
    class Meta:
        model = models.Item
        fields = lookups_for(models.Item, text=("vendor_item_no",))


class ErpResourceFilterSet(RecordFilterSet):
    class Meta:
        model = models.Resource
        fields = lookups_for(models.Resource)


class ErpSalesPriceFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesPrice
        fields = lookups_for(models.SalesPrice)


class ErpOpportunityFilterSet(RecordFilterSet):
    class Meta:
        model = models.Opportunity
        fields = lookups_for(models.Opportunity)


class ErpSalesHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesHeader
        fields = lookups_for(models.SalesHeader, text=(*BILL_TO_SHIP_TO, "no"))


class ErpSalesLineFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesLine
        fields = lookups_for(models.SalesLine, text=("no",))


class ErpSalesInvoiceHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesInvoiceHeader
        fields = lookups_for(models.SalesInvoiceHeader, text=(*BILL_TO_SHIP_TO, "order_no"))


class ErpSalesInvoiceLineFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesInvoiceLine
        fields = lookups_for(models.SalesInvoiceLine, text=("no",))


class ErpPurchaseHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.PurchaseHeader
        fields = lookups_for(models.PurchaseHeader, text=("no",))


class ErpInteractionLogEntryFilterSet(ApiFilterSet):
    class Meta:
        model = models.InteractionLogEntry
        fields = lookups_for(models.InteractionLogEntry, text=("document_no",))
