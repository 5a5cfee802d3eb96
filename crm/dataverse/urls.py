"""``/api/data/v9.2/…`` (v9.0 and v9.1 too, as Dataverse answers them), mounted by ``p2c/urls.py``."""

from django.urls import re_path

from . import views

urlpatterns = [re_path(r"^(?P<path>.*)$", views.service, name="dataverse")]
