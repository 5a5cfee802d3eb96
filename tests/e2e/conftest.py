"""The browser tests' fixtures, written once: Chromium launched by Playwright for a test against ``live_server``, a
page of it, and the demo data with an administrator."""

import pytest
from django.contrib.auth.models import User
from django.db import connections

from tests.e2e.browser import CHROMIUM_ARGS, PASSWORD, SCREENSHOTS
from tests.services import browser_executable

DEMO_SCALE = 40


@pytest.fixture
def browser(live_server, monkeypatch):
    """Chromium, launched by Playwright (the arguments of tests/e2e/browser.py) for a test against ``live_server``."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # The test's ORM calls ran in Playwright's context, on connections of their own (Django's are per context):
        # closed here, or their sessions outlive the test and hold the test databases open.
        connections.close_all()


@pytest.fixture
def page(browser):
    """A page of a new browser context at 1,400 x 900 px, waiting up to a minute for what it is asked to wait for."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture
def demo(db):
    from integration.demo import demo_seed

    demo_seed(scale=DEMO_SCALE, seed=7)
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
