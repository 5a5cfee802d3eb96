from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Sales")
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

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_delete

        from p2c.deletions import deletion_log_connect
        from p2c.records import Record

        from .models import DeletedRecord
        from .users import login_deleted

        post_delete.connect(login_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="crm.login_deleted")
        # Every Sales record's delete is logged, as Dataverse's change tracking keeps its deleted items
        deletion_log_connect(DeletedRecord, [model for model in self.get_models() if issubclass(model, Record)])
