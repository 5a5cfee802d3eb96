from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = _("ERP")
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

    def ready(self):
        # The models' writes keep linked contacts, customers, vendors and bank accounts in step through these rules;
        # the rules import the models, so they receive the models' signals, connected as the module is imported.
        from erp.business_relations import propagation  # noqa: F401
        from erp.models import DeletedRecord
        from p2c.deletions import deletion_log_connect
        from p2c.records import Record

        # Every ERP record's delete is logged, as Business Central's Integration Record kept its "Deleted On"
        deletion_log_connect(DeletedRecord, [model for model in self.get_models() if issubclass(model, Record)])
