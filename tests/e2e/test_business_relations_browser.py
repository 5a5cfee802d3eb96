"""Browser test (docs/features.md B3, B7): from an ERP contact card, create it as a customer with a template, then a
sales quote.

Playwright driving Debian's Chromium against ``live_server``; screenshots go to tests/e2e/screenshots/.
"""


import pytest
from django.contrib.auth.models import User

from tests.e2e.browser import PASSWORD, SCREENSHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contact_card_create_as_customer_then_sales_quote(page, live_server):
    from erp.models import Contact, ContactBusinessRelation, Customer, CustomerTemplate, SalesHeader
    from tests.erp.business_relations_setup import configure

    configure()
    CustomerTemplate.objects.create(code="DOMESTIC", description="Domestic", contact_type="company",
                                    customer_group="10")
    contact = Contact.objects.create(name="Fabrikam", city="Oslo", phone_no="+47 22 00 00 00")
    User.objects.create_superuser("br-admin", "br@example.com", PASSWORD)

    log_in(page, live_server, "br-admin")

    page.goto(f"{live_server.url}/admin/erp/contact/{contact.pk}/change/")
    page.click("text=Create as customer…")
    page.wait_for_selector("#id_template")
    page.select_option("#id_template", label="DOMESTIC Domestic")
    page.screenshot(path=str(SCREENSHOTS / "br-01-create-as-customer.png"), full_page=True)
    page.click("input[type=submit][value='Create as customer']")
    page.wait_for_selector("#customer_form")
    customer = Customer.objects.get()
    assert (customer.name, customer.city, customer.customer_group) == ("Fabrikam", "Oslo", "10")
    assert ContactBusinessRelation.objects.get().contact == contact
    assert "1 customer created" in page.inner_text(".messagelist")

    page.goto(f"{live_server.url}/admin/erp/contact/{contact.pk}/change/")
    page.click("text=Create sales quote")
    page.click("input[type=submit][value='Create sales quote']")
    page.wait_for_selector("#salesheader_form")
    page.screenshot(path=str(SCREENSHOTS / "br-02-sales-quote.png"), full_page=True)
    quote = SalesHeader.objects.get()
    assert (quote.document_type, quote.sell_to_customer, quote.sell_to_contact) == ("quote", customer, contact)
    assert contact.interactions.get().document_no == quote.no
