from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from p2c.records import records_written

        from . import realtime
        from .models import ConnectionSetup, IntegrationTableMapping
        from .sales_orders import realtime as sales_orders_realtime

        # Near-real-time synchronisation (a thin door: integration.realtime decides and enqueues on commit).
        records_written.connect(realtime.records_written_received, dispatch_uid="integration.realtime")
        sales_orders_realtime.connect()  # "create sales orders automatically" (SPEC I9)
        for model in (IntegrationTableMapping, ConnectionSetup):
            post_save.connect(realtime.config_clear, sender=model, dispatch_uid=f"integration.realtime.{model.__name__}")
            post_delete.connect(realtime.config_clear, sender=model,
                                dispatch_uid=f"integration.realtime.del.{model.__name__}")
