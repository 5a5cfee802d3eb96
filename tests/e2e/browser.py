"""What the browser tests share besides their fixtures (tests/e2e/conftest.py): Chromium's arguments, the
administrator's password, screenshots, logging in and the assisted set-up walked in the browser."""

from pathlib import Path

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "e2e-password"


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username="admin"):
    """Log in to the admin as ``username`` (password `PASSWORD`), and wait for the page that opens."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def run_setup_wizard(page, live_server):
    page.goto(f"{live_server.url}/admin/integration/connectionsetup/assisted-setup/?restart=1")
    page.wait_for_selector("#p2c-wizard")
    shot(page, "00-wizard-sales")
    page.click("input[name=next]")  # Sales: this database
    shot(page, "01-wizard-connection")
    page.click("input[name=next]")
    page.check("#id_synchronize-item_availability_enabled")
    page.click("input[name=next]")
    shot(page, "02-wizard-defaults")
    page.click("input[name=next]")
    shot(page, "03-wizard-finish")
    page.click("input[name=next]")
    page.wait_for_selector("#p2c-review-lines")


def run_list_action(page, pk, action):
    page.check(f'input[name="_selected_action"][value="{pk}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')
