"""The browser tests' fixtures: a Chromium page on ``live_server`` (Playwright) and the demo data with an
administrator."""

import pytest
from django.contrib.auth.models import User

from tests.e2e.browser import CHROMIUM_ARGS, PASSWORD, SCREENSHOTS
from tests.services import browser_executable

DEMO_SCALE = 40


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def demo(db):
    from integration.demo import demo_seed

    demo_seed(scale=DEMO_SCALE, seed=7)
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
