from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Sales"
    default_auto_field = "django.db.models.BigAutoField"

    # The tables the integration may map, each with the fields it must never read or write (a login link is
    # not Sales data). The integration reads this declaration; nothing here knows the integration.
    synchronisable_models = {
        "SystemUser": ("user",),
        "TransactionCurrency": (),
        "UnitGroup": (),
        "Unit": (),
        "PriceLevel": (),
        "Product": (),
        "ProductPriceLevel": (),
        "Account": (),
        "Contact": (),
        "Opportunity": (),
        "Quote": (),
        "QuoteDetail": (),
        "SalesOrder": (),
        "SalesOrderDetail": (),
        "Invoice": (),
        "InvoiceDetail": (),
    }
