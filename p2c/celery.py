"""The Celery application. Only `integration/tasks.py` defines tasks; nothing else imports Celery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2c.settings")

app = Celery("p2c")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders():
    """kombu's filesystem transport needs its folders to exist before a worker or a client touches them."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs):
    _ensure_filesystem_broker_folders()
