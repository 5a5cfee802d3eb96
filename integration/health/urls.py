"""``/health/``, ``/health/live/`` and ``/metrics`` (integration/health/monitoring.py), mounted at the site's root."""

from django.urls import path

from .monitoring import health_view, liveness_view, metrics_view

urlpatterns = [
    path("health/", health_view, name="health"),
    path("health/live/", liveness_view, name="health_live"),
    path("metrics", metrics_view, name="metrics"),
]
