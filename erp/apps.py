from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP"
    default_auto_field = "django.db.models.BigAutoField"
