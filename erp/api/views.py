"""Viewsets of the ERP models; records are named by their No. or Code in URLs and foreign keys."""

from rest_framework import viewsets

from erp import models
from p2c.api.deletions import deletion_log_viewset
from p2c.api.viewsets import (
    ApiViewSetMixin,
    BulkUpsertMixin,
    LargeRecordViewSet,
    RecordViewSet,
    SingletonViewSet,
    bulk_schema,
)

from . import filters, serializers
from .business_relations import ContactBusinessRelationActionsMixin, RecordCreateContactActionsMixin


# Setup tables of one row.
class ErpMarketingSetupViewSet(SingletonViewSet):
    queryset = models.MarketingSetup.objects.all()
    serializer_class = serializers.ErpMarketingSetupSerializer


class ErpSalesReceivablesSetupViewSet(SingletonViewSet):
    queryset = models.SalesReceivablesSetup.objects.all()
    serializer_class = serializers.ErpSalesReceivablesSetupSerializer


class ErpPurchasesPayablesSetupViewSet(SingletonViewSet):
    queryset = models.PurchasesPayablesSetup.objects.all()
    serializer_class = serializers.ErpPurchasesPayablesSetupSerializer


class ErpGeneralLedgerSetupViewSet(SingletonViewSet):
    queryset = models.GeneralLedgerSetup.objects.all()
    serializer_class = serializers.ErpGeneralLedgerSetupSerializer


# Code tables: page-numbered lists by code.
class ErpNoSeriesViewSet(RecordViewSet):
    queryset = models.NoSeries.objects.all()
    serializer_class = serializers.ErpNoSeriesSerializer
    filterset_class = filters.ErpNoSeriesFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "code", "description")
    ordering = ("code", "pk")


class ErpBusinessRelationViewSet(RecordViewSet):
    queryset = models.BusinessRelation.objects.all()
    serializer_class = serializers.ErpBusinessRelationSerializer
    filterset_class = filters.ErpBusinessRelationFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "code", "description")
    ordering = ("code", "pk")


class ErpCurrencyViewSet(RecordViewSet):
    queryset = models.Currency.objects.all()
    serializer_class = serializers.ErpCurrencySerializer
    filterset_class = filters.ErpCurrencyFilterSet
    search_fields = ("code", "description", "iso_code")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpUnitOfMeasureViewSet(RecordViewSet):
    queryset = models.UnitOfMeasure.objects.all()
    serializer_class = serializers.ErpUnitOfMeasureSerializer
    filterset_class = filters.ErpUnitOfMeasureFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpCustomerPriceGroupViewSet(RecordViewSet):
    queryset = models.CustomerPriceGroup.objects.all()
    serializer_class = serializers.ErpCustomerPriceGroupSerializer
    filterset_class = filters.ErpCustomerPriceGroupFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpPaymentTermsViewSet(RecordViewSet):
    queryset = models.PaymentTerms.objects.all()
    serializer_class = serializers.ErpPaymentTermsSerializer
    filterset_class = filters.ErpPaymentTermsFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpShipmentMethodViewSet(RecordViewSet):
    queryset = models.ShipmentMethod.objects.all()
    serializer_class = serializers.ErpShipmentMethodSerializer
    filterset_class = filters.ErpShipmentMethodFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpShippingAgentViewSet(RecordViewSet):
    queryset = models.ShippingAgent.objects.all()
    serializer_class = serializers.ErpShippingAgentSerializer
    filterset_class = filters.ErpShippingAgentFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description")
    ordering = ("code", "pk")


class ErpCustomerTemplateViewSet(RecordViewSet):
    queryset = models.CustomerTemplate.objects.all()
    serializer_class = serializers.ErpCustomerTemplateSerializer
    filterset_class = filters.ErpCustomerTemplateFilterSet
    search_fields = ("code", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "description", "credit_limit_lcy")
    ordering = ("code", "pk")


class ErpSalespersonPurchaserViewSet(RecordViewSet):
    queryset = models.SalespersonPurchaser.objects.all()
    serializer_class = serializers.ErpSalespersonPurchaserSerializer
    filterset_class = filters.ErpSalespersonPurchaserFilterSet
    search_fields = ("code", "name", "email")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "code", "name")
    ordering = ("code", "pk")


@bulk_schema(serializers.ErpContactSerializer, "no")
class ErpContactViewSet(ContactBusinessRelationActionsMixin, BulkUpsertMixin, LargeRecordViewSet):
    """ERP contacts; the business-relation operations (create as customer, link, quotes, …) are actions on them."""

    queryset = models.Contact.objects.all()
    serializer_class = serializers.ErpContactSerializer
    filterset_class = filters.ErpContactFilterSet
    search_fields = ("no", "name", "name_2", "first_name", "surname", "company_name", "email", "city")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "name", "surname")
    bulk_key_field = "no"


@bulk_schema(serializers.ErpCustomerSerializer, "no")
class ErpCustomerViewSet(RecordCreateContactActionsMixin, BulkUpsertMixin, LargeRecordViewSet):
    """ERP customers; ``create-contact`` makes and links their contact."""

    queryset = models.Customer.objects.all()
    serializer_class = serializers.ErpCustomerSerializer
    filterset_class = filters.ErpCustomerFilterSet
    search_fields = ("no", "name", "name_2", "email", "city")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "name", "credit_limit_lcy")
    bulk_key_field = "no"


class ErpVendorViewSet(RecordCreateContactActionsMixin, LargeRecordViewSet):
    """ERP vendors; ``create-contact`` makes and links their contact."""

    queryset = models.Vendor.objects.all()
    serializer_class = serializers.ErpVendorSerializer
    filterset_class = filters.ErpVendorFilterSet
    search_fields = ("no", "name", "name_2", "email", "city")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "name")


class ErpBankAccountViewSet(RecordCreateContactActionsMixin, RecordViewSet):
    """ERP bank accounts; ``create-contact`` makes and links their contact."""

    queryset = models.BankAccount.objects.all()
    serializer_class = serializers.ErpBankAccountSerializer
    filterset_class = filters.ErpBankAccountFilterSet
    search_fields = ("no", "name", "name_2", "email", "city")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "name")
    ordering = ("no", "pk")


class ErpContactBusinessRelationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only: links are made and removed with the contact operations (``contacts/{no}/link/``, ``unlink/``,
    ``create-customer/`` …), which check what a direct write would not (one link of each kind per contact, the
    Marketing Setup code, the person's company) and make the linked records' common information identical."""

    queryset = models.ContactBusinessRelation.objects.all()
    serializer_class = serializers.ErpContactBusinessRelationSerializer
    filterset_class = filters.ErpContactBusinessRelationFilterSet
    search_fields = ("no",)
    ordering_fields = ("id",)
    ordering = ("contact", "link_to_table", "pk")


# Items, resources, prices and documents; the large lists in keyset pages by modified_at.
class ErpItemViewSet(LargeRecordViewSet):
    queryset = models.Item.objects.all()
    serializer_class = serializers.ErpItemSerializer
    filterset_class = filters.ErpItemFilterSet
    search_fields = ("no", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "description", "unit_price")


class ErpResourceViewSet(RecordViewSet):
    queryset = models.Resource.objects.all()
    serializer_class = serializers.ErpResourceSerializer
    filterset_class = filters.ErpResourceFilterSet
    search_fields = ("no", "name")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "name", "unit_price")
    ordering = ("no", "pk")


class ErpSalesPriceViewSet(LargeRecordViewSet):
    queryset = models.SalesPrice.objects.all()
    serializer_class = serializers.ErpSalesPriceSerializer
    filterset_class = filters.ErpSalesPriceFilterSet
    search_fields = ("sales_code",)
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "unit_price")


class ErpOpportunityViewSet(LargeRecordViewSet):
    queryset = models.Opportunity.objects.all()
    serializer_class = serializers.ErpOpportunitySerializer
    filterset_class = filters.ErpOpportunityFilterSet
    search_fields = ("no", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "no", "description")


class ErpSalesHeaderViewSet(LargeRecordViewSet):
    queryset = models.SalesHeader.objects.all()
    serializer_class = serializers.ErpSalesHeaderSerializer
    filterset_class = filters.ErpSalesHeaderFilterSet
    search_fields = ("no", "external_document_no")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "amount")


class ErpSalesInvoiceHeaderViewSet(LargeRecordViewSet):
    queryset = models.SalesInvoiceHeader.objects.all()
    serializer_class = serializers.ErpSalesInvoiceHeaderSerializer
    filterset_class = filters.ErpSalesInvoiceHeaderFilterSet
    search_fields = ("no", "external_document_no")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "amount", "no")


class ErpSalesLineViewSet(LargeRecordViewSet):
    queryset = models.SalesLine.objects.all()
    serializer_class = serializers.ErpSalesLineSerializer
    filterset_class = filters.ErpSalesLineFilterSet
    search_fields = ("no", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "line_no", "description", "unit_price", "amount")


class ErpSalesInvoiceLineViewSet(LargeRecordViewSet):
    queryset = models.SalesInvoiceLine.objects.all()
    serializer_class = serializers.ErpSalesInvoiceLineSerializer
    filterset_class = filters.ErpSalesInvoiceLineFilterSet
    search_fields = ("no", "description")
    ordering_fields = ("id", "system_id", "created_at", "modified_at", "line_no", "description", "unit_price", "amount")


class ErpPurchaseHeaderViewSet(LargeRecordViewSet):
    queryset = models.PurchaseHeader.objects.all()
    serializer_class = serializers.ErpPurchaseHeaderSerializer
    filterset_class = filters.ErpPurchaseHeaderFilterSet
    search_fields = ("no",)
    ordering_fields = ("id", "system_id", "created_at", "modified_at")


class ErpInteractionLogEntryViewSet(RecordViewSet):
    queryset = models.InteractionLogEntry.objects.all()
    serializer_class = serializers.ErpInteractionLogEntrySerializer
    filterset_class = filters.ErpInteractionLogEntryFilterSet
    search_fields = ("description",)
    ordering_fields = ("id", "description", "created_at")
    ordering = ("-created_at", "pk")


# The records deleted in the last days (p2c.deletions), read-only
ErpDeletedRecordViewSet = deletion_log_viewset(models.DeletedRecord)
