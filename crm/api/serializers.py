"""Serializers of the CRM models: every field, foreign keys by natural key, system fields read-only."""

from django.utils.translation import gettext
from rest_framework import serializers

from crm import models
from p2c.api.exceptions import StateConflict
from p2c.api.serializers import RecordSerializer, related_id

# The refusal of a change to a price list the ERP integration keeps (PriceLevel.hand_edit_error): 409 with this code.
INTEGRATION_MANAGED = "integration_managed"


class CrmSystemUserSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SystemUser


class CrmTransactionCurrencySerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.TransactionCurrency


class CrmUnitGroupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.UnitGroup


class CrmUnitSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Unit


class CrmPriceLevelSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.PriceLevel

    def validate(self, attrs):
        error = self.instance is not None and self.instance.hand_edit_error()
        if error:
            raise StateConflict(error, code=INTEGRATION_MANAGED, field="is_integration_managed")
        return super().validate(attrs)


class CrmProductSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Product


class CrmProductPriceLevelSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.ProductPriceLevel

    def validate(self, attrs):
        for kept in (self.instance, attrs.get("price_level")):  # the line as it is, or the list it would move to
            error = kept is not None and kept.hand_edit_error()
            if error:
                raise StateConflict(error, code=INTEGRATION_MANAGED, field="price_level")
        return super().validate(attrs)


class CrmAccountSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Account


class CrmContactSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Contact

    def validate(self, attrs):
        # The model's check constraint, said as a field error before the database refuses it.
        parent_account = related_id(attrs, self.instance, "parent_account")
        parent_contact = related_id(attrs, self.instance, "parent_contact")
        if parent_account is not None and parent_contact is not None:
            raise serializers.ValidationError(
                {"parent_contact": [gettext("The company of a contact is an account or a contact, not both.")]}
            )
        if parent_contact is not None and self.instance is not None and parent_contact == self.instance.pk:
            raise serializers.ValidationError({"parent_contact": [gettext("A contact cannot be its own company.")]})
        return attrs


class CrmOpportunitySerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Opportunity


class CrmQuoteSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Quote


class CrmQuoteDetailSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.QuoteDetail


class CrmSalesOrderSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesOrder


class CrmSalesOrderDetailSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesOrderDetail


class CrmInvoiceSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Invoice


class CrmInvoiceDetailSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.InvoiceDetail
