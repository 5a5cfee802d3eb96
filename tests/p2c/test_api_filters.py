"""The filter type rule (``p2c.api.filters.lookups_for``; each table's filterset is held to it in
tests/api/test_tables.py)."""

import pytest

from crm import models as crm
from erp import models as erp
from p2c.api.filters import lookups_for


def test_lookups_follow_the_field_types():
    fields = lookups_for(erp.Customer, text=("city",))
    assert fields["salesperson"] == ["exact", "isnull"]
    assert fields["credit_limit_lcy"] == ["exact", "gte", "lte"]
    assert fields["created_at"] == ["exact", "gte", "lte"]
    assert fields["blocked"] == ["exact"]  # choices
    assert fields["privacy_blocked"] == ["exact"]  # boolean
    assert fields["system_id"] == ["exact"]  # UUID
    assert fields["email"] == ["exact"]
    assert fields["no"] == ["exact"]  # unique text
    assert fields["search_name"] == ["exact"]  # indexed text
    assert fields["city"] == ["exact"]  # named in text
    for left_out in ("id", "modified_at", "address", "phone_no", "post_code"):
        assert left_out not in fields


def test_long_text_and_one_to_one_links_get_no_filter():
    assert "description" not in lookups_for(crm.Account)
    assert "user" not in lookups_for(crm.SystemUser)


def test_exclude_and_unknown_names():
    assert "email" not in lookups_for(erp.Customer, exclude=("email",))
    with pytest.raises(ValueError, match=r"erp\.Customer has no field citty"):
        lookups_for(erp.Customer, text=("citty",))

