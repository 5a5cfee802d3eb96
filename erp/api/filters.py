"""FilterSets of the ERP models, by the type rule of ``p2c.api.filters.filterset_for``: exact and range lookups,
foreign keys by natural key; synchronised records also take ``modified_after``, ``modified_before`` and ``coupled``.

Named here: the unindexed text fields (places, groups, document numbers) that get an exact filter too.
"""

from erp import models
from p2c.api.filters import filterset_for

ADDRESS = ("city", "post_code", "country_region_code", "language_code")
BILL_TO_SHIP_TO = (
    "bill_to_city", "bill_to_post_code", "bill_to_country_region_code",
    "ship_to_city", "ship_to_post_code", "ship_to_country_region_code",
    "external_document_no",
)
SALES_GROUPS = ("customer_group", "site", "warehouse")

ErpNoSeriesFilterSet = filterset_for(models.NoSeries)
ErpBusinessRelationFilterSet = filterset_for(models.BusinessRelation)
ErpCurrencyFilterSet = filterset_for(models.Currency)
ErpUnitOfMeasureFilterSet = filterset_for(models.UnitOfMeasure)
ErpCustomerPriceGroupFilterSet = filterset_for(models.CustomerPriceGroup)
ErpPaymentTermsFilterSet = filterset_for(models.PaymentTerms)
ErpShipmentMethodFilterSet = filterset_for(models.ShipmentMethod)
ErpShippingAgentFilterSet = filterset_for(models.ShippingAgent)
ErpCustomerTemplateFilterSet = filterset_for(models.CustomerTemplate, text=("language_code", *SALES_GROUPS))
ErpSalespersonPurchaserFilterSet = filterset_for(models.SalespersonPurchaser)
ErpContactFilterSet = filterset_for(models.Contact, text=ADDRESS)
ErpCustomerFilterSet = filterset_for(models.Customer, text=(*ADDRESS, *SALES_GROUPS))
ErpVendorFilterSet = filterset_for(models.Vendor, text=ADDRESS)
ErpBankAccountFilterSet = filterset_for(models.BankAccount, text=ADDRESS)
ErpContactBusinessRelationFilterSet = filterset_for(models.ContactBusinessRelation, text=("no",))
ErpItemFilterSet = filterset_for(models.Item, text=("vendor_item_no",))
ErpResourceFilterSet = filterset_for(models.Resource)
ErpSalesPriceFilterSet = filterset_for(models.SalesPrice)
ErpOpportunityFilterSet = filterset_for(models.Opportunity)
ErpSalesHeaderFilterSet = filterset_for(models.SalesHeader, text=(*BILL_TO_SHIP_TO, "no"))
ErpSalesLineFilterSet = filterset_for(models.SalesLine, text=("no",))
ErpSalesInvoiceHeaderFilterSet = filterset_for(models.SalesInvoiceHeader, text=(*BILL_TO_SHIP_TO, "order_no"))
ErpSalesInvoiceLineFilterSet = filterset_for(models.SalesInvoiceLine, text=("no",))
ErpPurchaseHeaderFilterSet = filterset_for(models.PurchaseHeader, text=("no",))
ErpInteractionLogEntryFilterSet = filterset_for(models.InteractionLogEntry, text=("document_no",))
