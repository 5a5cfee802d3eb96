"""API extensions (p2c/extensions.py): the viewset and serializer mixins an app above registers are taken each time
a viewset or a serializer is made, not built into the API's classes, so a mixin registered after those classes were
made acts on the next request."""

import pytest
from rest_framework import serializers

from crm.api.urls import router as crm_router
from crm.models import Account
from erp.api.urls import router as erp_router
from p2c import extensions
from tests.admin_helpers import make_row

pytestmark = pytest.mark.django_db


class NoShouting:
    """A serializer mixin: an account's name in capitals is refused."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("name", "").isupper():
            raise serializers.ValidationError({"name": ["No shouting."]})
        return attrs


class HiddenAccounts:
    """A viewset mixin: the accounts named Hidden are not listed."""

    def get_queryset(self):
        return super().get_queryset().exclude(name="Hidden")


def test_a_serializer_mixin_registered_after_the_api_classes_were_made_acts_on_the_next_request(api, monkeypatch):
    assert api.post("/api/crm/accounts/", {"name": "LOUD LTD"}, format="json").status_code == 201

    monkeypatch.setitem(extensions._registry, (extensions.SERIALIZER_MIXIN, Account), [NoShouting])
    refused = api.post("/api/crm/accounts/", {"name": "LOUDER LTD"}, format="json")
    bulk = api.post("/api/crm/accounts/bulk/", [{"name": "LOUDEST LTD"}], format="json")

    assert (refused.status_code, refused.json()["name"]) == (400, ["No shouting."])
    assert bulk.json()["results"][0]["errors"] == {"name": ["No shouting."]}
    assert api.post("/api/crm/accounts/", {"name": "Quiet Ltd"}, format="json").status_code == 201


def test_a_viewset_mixin_registered_after_the_api_classes_were_made_acts_on_the_next_request(api, monkeypatch):
    make_row(Account, name="Hidden")
    make_row(Account, name="Shown")
    monkeypatch.setitem(extensions._registry, (extensions.VIEWSET_MIXIN, Account), [HiddenAccounts])

    names = [account["name"] for account in api.get("/api/crm/accounts/").json()["results"]]

    assert "Shown" in names and "Hidden" not in names
    assert api.post("/api/crm/accounts/", {"name": "Later"}, format="json").status_code == 201  # the rest as before


def test_the_sales_and_erp_api_classes_hold_none_of_the_integration_s_classes():
    # What the integration adds is taken when a viewset or a serializer is made: nothing of it is a base of a class.
    for router in (crm_router, erp_router):
        for _, viewset, _ in router.registry:
            classes = [*viewset.__mro__, *getattr(viewset, "serializer_class", object).__mro__]
            assert not [cls for cls in classes if cls.__module__.startswith("integration")], viewset
