"""Routes of the ERP API, mounted under ``/api/erp/`` by ``p2c/api_urls.py``."""

from p2c.api.routers import Router

from . import views

router = Router()
router.register("no-series", views.ErpNoSeriesViewSet, basename="erp-no-series")
router.register("business-relations", views.ErpBusinessRelationViewSet, basename="erp-business-relations")
router.register("marketing-setup", views.ErpMarketingSetupViewSet, basename="erp-marketing-setup")
router.register("sales-receivables-setup", views.ErpSalesReceivablesSetupViewSet, basename="erp-sales-receivables-setup")
router.register("purchases-payables-setup", views.ErpPurchasesPayablesSetupViewSet, basename="erp-purchases-payables-setup")
router.register("general-ledger-setup", views.ErpGeneralLedgerSetupViewSet, basename="erp-general-ledger-setup")
router.register("currencies", views.ErpCurrencyViewSet, basename="erp-currencies")
router.register("units-of-measure", views.ErpUnitOfMeasureViewSet, basename="erp-units-of-measure")
router.register("customer-price-groups", views.ErpCustomerPriceGroupViewSet, basename="erp-customer-price-groups")
router.register("payment-terms", views.ErpPaymentTermsViewSet, basename="erp-payment-terms")
router.register("shipment-methods", views.ErpShipmentMethodViewSet, basename="erp-shipment-methods")
router.register("shipping-agents", views.ErpShippingAgentViewSet, basename="erp-shipping-agents")
router.register("customer-templates", views.ErpCustomerTemplateViewSet, basename="erp-customer-templates")
router.register("salespeople-purchasers", views.ErpSalespersonPurchaserViewSet, basename="erp-salespeople-purchasers")
router.register("contacts", views.ErpContactViewSet, basename="erp-contacts")
router.register("customers", views.ErpCustomerViewSet, basename="erp-customers")
router.register("vendors", views.ErpVendorViewSet, basename="erp-vendors")
router.register("bank-accounts", views.ErpBankAccountViewSet, basename="erp-bank-accounts")
router.register("contact-business-relations", views.ErpContactBusinessRelationViewSet, basename="erp-contact-business-relations")
router.register("items", views.ErpItemViewSet, basename="erp-items")
router.register("resources", views.ErpResourceViewSet, basename="erp-resources")
router.register("sales-prices", views.ErpSalesPriceViewSet, basename="erp-sales-prices")
router.register("opportunities", views.ErpOpportunityViewSet, basename="erp-opportunities")
router.register("sales-headers", views.ErpSalesHeaderViewSet, basename="erp-sales-headers")
router.register("sales-lines", views.ErpSalesLineViewSet, basename="erp-sales-lines")
router.register("sales-invoice-headers", views.ErpSalesInvoiceHeaderViewSet, basename="erp-sales-invoice-headers")
router.register("sales-invoice-lines", views.ErpSalesInvoiceLineViewSet, basename="erp-sales-invoice-lines")
router.register("purchase-headers", views.ErpPurchaseHeaderViewSet, basename="erp-purchase-headers")
router.register("interaction-log-entries", views.ErpInteractionLogEntryViewSet, basename="erp-interaction-log-entries")
router.register("deleted-records", views.ErpDeletedRecordViewSet, basename="erp-deleted-records")

urlpatterns = router.urls
