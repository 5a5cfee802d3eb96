from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from p2c.records import records_written

        from . import realtime, tasks  # noqa: F401  (tasks: registered with Celery, found by name by the queue)
        from .contributions import contributions_register
        from .engine.validation import field_mapping_validate, table_mapping_validate
        from .models import ConnectionSetup, IntegrationTableMapping
        from .models.mappings import mapping_validators_set
        from .sales_orders import realtime as sales_orders_realtime

        contributions_register()  # to the Sales and ERP admin and API, which do not import the integration
        mapping_validators_set(table_mapping=table_mapping_validate, field_mapping=field_mapping_validate)
        # Near-real-time synchronisation (a thin door: integration.realtime decides and enqueues on commit).
        records_written.connect(realtime.records_written_received, dispatch_uid="integration.realtime")
        sales_orders_realtime.connect()  # "create sales orders automatically" (SPEC I9)
        for model in (IntegrationTableMapping, ConnectionSetup):
            post_save.connect(realtime.config_clear, sender=model, dispatch_uid=f"integration.realtime.{model.__name__}")
            post_delete.connect(realtime.config_clear, sender=model,
                                dispatch_uid=f"integration.realtime.del.{model.__name__}")
