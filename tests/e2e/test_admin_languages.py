"""The admin in French and Swedish in a real browser (docs/decisions.md#messages-stored-as-what-they-mean): a browser
set to the language gets the wizard and a customer list with its coupling column in it, and the header's language switch
changes it. Screenshots go to tests/e2e/screenshots/ (git-ignored): languages-<lang>-wizard.png,
languages-<lang>-customers.png."""

import pytest

from tests.e2e.browser import log_in, run_setup_wizard, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What each page says in each language (a few of its strings, from the catalogues).
EXPECTED = {
    "fr": {"wizard": ["Configuration assistée de l'intégration Sales", "Cette base de données", "Suivant"],
           "customers": ["Couplage", "Synchroniser maintenant…", "Clients"]},
    "sv": {"wizard": ["Assisterad konfiguration av Sales-integrationen", "Denna databas", "Nästa"],
           "customers": ["Koppling", "Synkronisera nu…", "Kunder"]},
}


@pytest.mark.parametrize("lang", ["fr", "sv"])
def test_the_wizard_and_a_customer_list_in_the_browsers_language(browser, live_server, demo, lang):
    # The browser's language, as a user's browser set to it sends it (Accept-Language).
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=lang)
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, live_server)
    assert page.locator("html").get_attribute("lang") == lang

    page.goto(f"{live_server.url}/admin/integration/connectionsetup/assisted-setup/?restart=1")
    page.wait_for_selector("#p2c-wizard")
    shot(page, f"languages-{lang}-wizard")
    wizard = page.locator("#content").inner_text()
    for text in EXPECTED[lang]["wizard"]:
        assert text in wizard or text == page.locator("#p2c-wizard input[name=next]").get_attribute("value"), text
    run_setup_wizard(page, live_server)  # its default set-up: the customers are in a mapping, with their column

    page.goto(f"{live_server.url}/admin/erp/customer/")
    page.wait_for_selector("#result_list")
    shot(page, f"languages-{lang}-customers")
    listing = page.content()
    for text in EXPECTED[lang]["customers"]:
        assert text in listing, text
    context.close()


def test_the_header_switch_changes_the_language(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr")
    page = context.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/erp/customer/")
    assert page.locator("#site-name").inner_text() == "Administration p2c"
    with page.expect_navigation():
        page.select_option("#p2c-language-select", "nl")  # posts to set_language, which comes back here
    assert page.url.endswith("/admin/erp/customer/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("#site-name").inner_text() == "p2c-beheer"
    page.goto(f"{live_server.url}/admin/")  # the choice is kept (a cookie) over the browser's language
    assert page.locator("#site-name").inner_text() == "p2c-beheer"
    context.close()
