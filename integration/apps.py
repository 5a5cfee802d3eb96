from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Integration")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save, pre_delete

        from p2c.records import records_written

        from . import mappings, tasks  # noqa: F401  (the declared mappings and Celery tasks register on import)
        from .background import realtime
        from .contributions import contributions_register
        from .models import ConnectionSetup, IntegrationTableMapping
        from .sales_orders import realtime as sales_orders_realtime

        contributions_register()  # to the Sales and ERP admin and API, which do not import the integration
        # Near-real-time synchronisation (a thin door: integration.background.realtime decides and enqueues on commit).
        records_written.connect(realtime.records_written_received, dispatch_uid="integration.realtime")
        sales_orders_realtime.connect()  # "create sales orders automatically" (docs/features.md I9)
        pre_delete.connect(integration_user_delete_refuse, sender="crm.SystemUser",
                           dispatch_uid="integration.integration_user_protect")
        for model in (IntegrationTableMapping, ConnectionSetup):
            post_save.connect(
                realtime.config_clear, sender=model, dispatch_uid=f"integration.realtime.{model.__name__}"
            )
            post_delete.connect(realtime.config_clear, sender=model,
                                dispatch_uid=f"integration.realtime.del.{model.__name__}")


def integration_user_delete_refuse(sender, instance, **kwargs):
    """The connection setup's integration user may not be deleted (the database constraint cannot say so when
    Sales has a database of its own)."""
    from django.db.models import ProtectedError
    from django.utils.translation import gettext

    from .models import ConnectionSetup

    setups = list(ConnectionSetup.objects.filter(integration_user_id=instance.pk))
    if setups:
        raise ProtectedError(
            gettext("Cannot delete %(user)s: it is the integration user of the connection setup.") % {"user": instance},
            set(setups))
