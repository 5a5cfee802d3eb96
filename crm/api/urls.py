"""Routes of the CRM API, mounted under ``/api/crm/`` by ``p2c/api_urls.py``."""

from p2c.api.routers import Router

from . import views

router = Router()
router.register("system-users", views.CrmSystemUserViewSet, basename="crm-system-users")
router.register("transaction-currencies", views.CrmTransactionCurrencyViewSet, basename="crm-transaction-currencies")
router.register("unit-groups", views.CrmUnitGroupViewSet, basename="crm-unit-groups")
router.register("units", views.CrmUnitViewSet, basename="crm-units")
router.register("price-levels", views.CrmPriceLevelViewSet, basename="crm-price-levels")
router.register("products", views.CrmProductViewSet, basename="crm-products")
router.register("product-price-levels", views.CrmProductPriceLevelViewSet, basename="crm-product-price-levels")
router.register("accounts", views.CrmAccountViewSet, basename="crm-accounts")
router.register("contacts", views.CrmContactViewSet, basename="crm-contacts")
router.register("opportunities", views.CrmOpportunityViewSet, basename="crm-opportunities")
router.register("quotes", views.CrmQuoteViewSet, basename="crm-quotes")
router.register("quote-details", views.CrmQuoteDetailViewSet, basename="crm-quote-details")
router.register("sales-orders", views.CrmSalesOrderViewSet, basename="crm-sales-orders")
router.register("sales-order-details", views.CrmSalesOrderDetailViewSet, basename="crm-sales-order-details")
router.register("invoices", views.CrmInvoiceViewSet, basename="crm-invoices")
router.register("invoice-details", views.CrmInvoiceDetailViewSet, basename="crm-invoice-details")
router.register("deleted-records", views.CrmDeletedRecordViewSet, basename="crm-deleted-records")

urlpatterns = router.urls
