"""Serializers of the ERP models: every field, foreign keys by natural key, system fields read-only."""

from django.utils.translation import gettext
from rest_framework import serializers

from erp import models
from erp.numbering import no_series_manual_check
from p2c.api.serializers import RecordSerializer, related_id


class ManualNosSerializerMixin:
    """Create: a No. given for a new record is refused when its number series has Manual Nos. off.

    The series is read once per request or bulk batch (the context is shared by the batch's records).
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None:
            no_series_manual_check(model=self.Meta.model, values=attrs,
                                   cache=self.context.setdefault("series_of_new", {}))
        return attrs


class ErpNoSeriesSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.NoSeries


class ErpBusinessRelationSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.BusinessRelation


class ErpMarketingSetupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.MarketingSetup


class ErpSalesReceivablesSetupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesReceivablesSetup


class ErpPurchasesPayablesSetupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.PurchasesPayablesSetup


class ErpGeneralLedgerSetupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.GeneralLedgerSetup


class ErpCurrencySerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Currency


class ErpUnitOfMeasureSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.UnitOfMeasure


class ErpCustomerPriceGroupSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.CustomerPriceGroup


class ErpPaymentTermsSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.PaymentTerms


class ErpShipmentMethodSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.ShipmentMethod


class ErpShippingAgentSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.ShippingAgent


class ErpCustomerTemplateSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.CustomerTemplate


class ErpSalespersonPurchaserSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalespersonPurchaser


class ErpContactSerializer(ManualNosSerializerMixin, RecordSerializer):
    # One of them not blank (validate), said in the schema too (p2c.api.schema.AutoSchema).
    names_one_needed = ("name", "first_name", "middle_name", "surname")

    class Meta(RecordSerializer.Meta):
        model = models.Contact
        # A person's name is made from first name, middle name and surname.
        extra_kwargs = {"name": {"required": False, "allow_blank": True}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        contact_type = attrs.get("type", getattr(self.instance, "type", models.Contact.Type.COMPANY))
        if not any(attrs.get(n, getattr(self.instance, n, "")) for n in self.names_one_needed):
            raise serializers.ValidationError(
                {"name": [gettext("A contact needs a name (a person: a first name or surname).")]}
            )
        # The model's check constraint, said as a field error before the database refuses it.
        company = related_id(attrs, self.instance, "company")
        if company is not None and contact_type != models.Contact.Type.PERSON:
            raise serializers.ValidationError({"company": [gettext("Only a person contact can belong to a company.")]})
        if company is not None and self.instance is not None and company == self.instance.pk:
            raise serializers.ValidationError({"company": [gettext("A contact cannot be its own company.")]})
        return attrs


class ErpCustomerSerializer(ManualNosSerializerMixin, RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Customer


class ErpVendorSerializer(ManualNosSerializerMixin, RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Vendor


class ErpBankAccountSerializer(ManualNosSerializerMixin, RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.BankAccount


class ErpContactBusinessRelationSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.ContactBusinessRelation


class ErpItemSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Item


class ErpResourceSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Resource


class ErpSalesPriceSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesPrice


class ErpOpportunitySerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.Opportunity


class ErpSalesHeaderSerializer(ManualNosSerializerMixin, RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesHeader


class ErpSalesLineSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesLine


class ErpSalesInvoiceHeaderSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesInvoiceHeader


class ErpSalesInvoiceLineSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.SalesInvoiceLine


class ErpPurchaseHeaderSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.PurchaseHeader


class ErpInteractionLogEntrySerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        model = models.InteractionLogEntry
