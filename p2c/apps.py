from django.apps import AppConfig


class P2CConfig(AppConfig):
    name = "p2c"
    verbose_name = "p2c"
