"""FilterSets of the CRM models, by the type rule of ``p2c.api.filters.filterset_for``: exact and range lookups,
foreign keys by natural key; synchronised records also take ``modified_after``, ``modified_before`` and ``coupled``.

Named here: the unindexed text fields that get an exact filter too.
"""

from crm import models
from p2c.api.filters import filterset_for

ADDRESS1 = ("address1_city", "address1_postalcode", "address1_country")
BILL_TO_SHIP_TO = (
    "billto_city", "billto_postalcode", "billto_country",
    "shipto_city", "shipto_postalcode", "shipto_country",
)

CrmSystemUserFilterSet = filterset_for(models.SystemUser)
CrmTransactionCurrencyFilterSet = filterset_for(models.TransactionCurrency)
CrmUnitGroupFilterSet = filterset_for(models.UnitGroup)
CrmUnitFilterSet = filterset_for(models.Unit)
CrmPriceLevelFilterSet = filterset_for(models.PriceLevel)
CrmProductFilterSet = filterset_for(models.Product)
CrmProductPriceLevelFilterSet = filterset_for(models.ProductPriceLevel)
CrmAccountFilterSet = filterset_for(models.Account, text=ADDRESS1)
CrmContactFilterSet = filterset_for(models.Contact, text=ADDRESS1)
CrmOpportunityFilterSet = filterset_for(models.Opportunity)
CrmQuoteFilterSet = filterset_for(models.Quote, text=BILL_TO_SHIP_TO)
CrmQuoteDetailFilterSet = filterset_for(models.QuoteDetail)
CrmSalesOrderFilterSet = filterset_for(models.SalesOrder, text=BILL_TO_SHIP_TO)
CrmSalesOrderDetailFilterSet = filterset_for(models.SalesOrderDetail)
CrmInvoiceFilterSet = filterset_for(models.Invoice, text=BILL_TO_SHIP_TO)
CrmInvoiceDetailFilterSet = filterset_for(models.InvoiceDetail)
