from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class P2CConfig(AppConfig):
    name = "p2c"
    verbose_name = _("p2c")

    def ready(self):
        # The admin autodiscovery, here rather than in contrib.admin's ready() (the settings install
        # SimpleAdminConfig): p2c is the last installed app, so every app above has filled p2c.extensions
        # before the Sales and ERP admin modules read it.
        from django.contrib import admin

        from p2c import checks  # noqa: F401  (registers the project's system checks)

        admin.autodiscover()
        from django.apps import apps

        if apps.is_installed("django_celery_beat"):
            from p2c import admin_schedules  # noqa: F401  (its actions declaring the permission they need)
