"""Bounded and total doors (docs/decisions.md), the admin's forms: a JSON field (a table mapping's filter) holding text
that cannot be stored (a NUL, a lone surrogate, as JSON escapes them) is refused on the form, naming the key, never a
500 (the page showed the decoded surrogate back, which no response can encode; PostgreSQL refuses either in JSON), and
the mapping is left as it was. The configuration file's upload: test_configuration_limits."""

import pytest

from tests.admin_helpers import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("escape", ["\\ud800", "\\u0000"], ids=["surrogate", "nul"])
def test_a_filter_holding_unstorable_text_is_refused_by_the_admin_form(admin_client, mappings, escape):
    customer = mappings["CUSTOMER"]
    before = customer.erp_filter
    url = f"/admin/integration/integrationtablemapping/{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["erp_filter"] = '{"name": "net' + escape + 'x"}'
    response = admin_client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The text at name holds a NUL character (\\u0000) or a lone surrogate" in page
    assert "net" + escape + "x" in page  # the filter shown as it was typed, to be corrected
    customer.refresh_from_db()
    assert customer.erp_filter == before
