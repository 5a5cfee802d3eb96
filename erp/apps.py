from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP"
    default_auto_field = "django.db.models.BigAutoField"

    # The tables the integration may map, each with the fields it must never read or write. Set-up tables,
    # number series and business relations stay the ERP's own. The integration reads this declaration;
    # nothing here knows the integration.
    synchronisable_models = {
        "Currency": (),
        "UnitOfMeasure": (),
        "CustomerPriceGroup": (),
        "PaymentTerms": (),
        "ShipmentMethod": (),
        "ShippingAgent": (),
        "CustomerTemplate": (),
        "SalespersonPurchaser": (),
        "Contact": (),
        "Customer": (),
        "Vendor": (),
        "BankAccount": (),
        "Item": (),
        "Resource": (),
        "SalesPrice": (),
        "Opportunity": (),
        "SalesHeader": (),
        "SalesLine": (),
        "SalesInvoiceHeader": (),
        "SalesInvoiceLine": (),
        "PurchaseHeader": (),
    }
