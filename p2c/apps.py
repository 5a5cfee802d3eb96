from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class P2CConfig(AppConfig):
    name = "p2c"
    verbose_name = _("p2c")

    def ready(self):
        # The admin autodiscovery, here rather than in contrib.admin's ready() (the settings install
        # SimpleAdminConfig), so that the packages' admins it registers can be replaced or hidden next. (The Sales
        # and ERP admins read p2c.extensions on each request, p2c.admin_extensions: not here.)
        from django.contrib import admin

        from p2c import checks  # noqa: F401  (registers the project's system checks)

        admin.autodiscover()
        self._celery_beat_admin_hidden(admin.site)
        from p2c.admin_tokens import token_admins_declared

        token_admins_declared(admin.site)

    @staticmethod
    def _celery_beat_admin_hidden(site):
        """django-celery-beat's tables are the integration's schedules, written by the set-up wizard and the mappings
        (integration/background/schedules.py) and shown there in the user's language: its own admin (English
        only in Swedish and Dutch, and a second door onto the same schedules) is not shown."""
        from django.apps import apps

        if not apps.is_installed("django_celery_beat"):
            return
        for model in apps.get_app_config("django_celery_beat").get_models():
            if site.is_registered(model):
                site.unregister(model)
