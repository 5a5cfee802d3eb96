"""Without the integration installed, the Sales and ERP apps work: they do not import it (imports run one way,
p2c ← crm, erp ← integration; what the integration adds reaches them through p2c.extensions).

In a subprocess with its own settings module (tests/p2c/settings_without_integration.py) on its own SQLite
database: ``manage.py check`` passes, and the changelist and add page of every registered Sales and ERP model and
every Sales and ERP API list answer 200.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.p2c.settings_without_integration"

PAGES = r"""
import json

import django

django.setup()

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import setup_test_environment
from django.urls import reverse

setup_test_environment()
connection.creation.create_test_db(verbosity=0)

assert not apps.is_installed("integration")
client = Client()
user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
client.force_login(user)
request = RequestFactory().get("/admin/")
request.user = user
answers = {}
models = [model for model in admin.site._registry if model._meta.app_label in ("crm", "erp")]
for model in models:
    opts = model._meta
    # A setup table of one row opens on its record (a redirect to follow) and has no add page.
    pages = ("changelist", "add") if admin.site._registry[model].has_add_permission(request) else ("changelist",)
    for page in pages:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}")
        answers[url] = client.get(url, follow=True).status_code

for url in (reverse("admin:index"), reverse("admin:app_list", args=["crm"]), reverse("admin:app_list", args=["erp"])):
    answers[url] = client.get(url).status_code

from crm.api.urls import router as crm_router
from erp.api.urls import router as erp_router

for app_label, router in (("crm", crm_router), ("erp", erp_router)):
    for prefix, _viewset, basename in router.registry:
        url = reverse(f"{basename}-list")
        answers[url] = client.get(url, HTTP_ACCEPT="application/json").status_code
print(json.dumps({"models": [m._meta.label for m in models], "answers": answers}))
"""


def run(*args):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "SALES_DATABASE_URL", "CELERY_BROKER_URL", "P2C_TEST_SQLITE_NAME")}
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_manage_py_check_passes_without_the_integration():
    result = run("manage.py", "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_sales_and_erp_admin_and_api_pages_answer_without_the_integration():
    result = run("-c", PAGES)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    labels = set(report["models"])
    assert {"crm.Account", "crm.SalesOrder", "erp.Customer", "erp.Item"} <= labels
    assert any(url.startswith("/api/crm/") for url in report["answers"])
    assert any(url.startswith("/api/erp/") for url in report["answers"])
    failed = {url: status for url, status in report["answers"].items() if status != 200}
    assert not failed
