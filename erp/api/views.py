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
    viewset_for,
)
from p2c.extensions import viewset_mixins

from . import filters, serializers
from .business_relations import ContactBusinessRelationActionsMixin, RecordCreateContactActionsMixin


def erp_viewset(model, *bases, order_by=(), **attrs):
    """The viewset of an ERP model: its ``Erp<Model>Serializer`` and ``Erp<Model>FilterSet``, ordering by id, the
    record's system id and timestamps (when it has them) and ``order_by`` (see ``p2c.api.viewsets.viewset_for``).
    """
    name = f"Erp{model.__name__}"
    record = ("system_id", "created_at", "modified_at") if issubclass(model, models.ErpRecord) else ()
    return viewset_for(
        model, *bases,
        name=f"{name}ViewSet",
        serializer_class=getattr(serializers, f"{name}Serializer"),
        filterset_class=getattr(filters, f"{name}FilterSet"),
        ordering_fields=("id", *record, *order_by),
        __module__=__name__,
        **attrs,
    )


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
CODE = {"search": ("code", "description"), "order_by": ("code", "description"), "ordering": ("code", "pk")}

ErpNoSeriesViewSet = erp_viewset(models.NoSeries, RecordViewSet, **CODE)
ErpBusinessRelationViewSet = erp_viewset(models.BusinessRelation, RecordViewSet, **CODE)
ErpCurrencyViewSet = erp_viewset(
    models.Currency, *viewset_mixins(models.Currency), RecordViewSet,
    search=("code", "description", "iso_code"), order_by=("code", "description"), ordering=("code", "pk"),
)
ErpUnitOfMeasureViewSet = erp_viewset(models.UnitOfMeasure, *viewset_mixins(models.UnitOfMeasure), RecordViewSet, **CODE)
ErpCustomerPriceGroupViewSet = erp_viewset(models.CustomerPriceGroup, *viewset_mixins(models.CustomerPriceGroup), RecordViewSet, **CODE)
ErpPaymentTermsViewSet = erp_viewset(models.PaymentTerms, RecordViewSet, **CODE)
ErpShipmentMethodViewSet = erp_viewset(models.ShipmentMethod, RecordViewSet, **CODE)
ErpShippingAgentViewSet = erp_viewset(models.ShippingAgent, RecordViewSet, **CODE)
ErpCustomerTemplateViewSet = erp_viewset(
    models.CustomerTemplate, RecordViewSet,
    search=("code", "description"), order_by=("code", "description", "credit_limit_lcy"), ordering=("code", "pk"),
)
ErpSalespersonPurchaserViewSet = erp_viewset(
    models.SalespersonPurchaser, *viewset_mixins(models.SalespersonPurchaser), RecordViewSet,
    search=("code", "name", "email"), order_by=("code", "name"), ordering=("code", "pk"),
)


@bulk_schema(serializers.ErpContactSerializer, "no")
class ErpContactViewSet(
    ContactBusinessRelationActionsMixin, *viewset_mixins(models.Contact), BulkUpsertMixin, LargeRecordViewSet
):
    """ERP contacts; the business-relation operations (create as customer, link, quotes, …) are actions on them."""

    queryset = models.Contact.objects.all()
    serializer_class = serializers.ErpContactSerializer
    filterset_class = filters.ErpContactFilterSet
    search_fields = ('no', 'name', 'name_2', 'first_name', 'surname', 'company_name', 'email', 'city')
    ordering_fields = ('id', 'system_id', 'created_at', 'modified_at', 'no', 'name', 'surname')
    bulk_key_field = "no"


@bulk_schema(serializers.ErpCustomerSerializer, "no")
class ErpCustomerViewSet(
    RecordCreateContactActionsMixin, *viewset_mixins(models.Customer), BulkUpsertMixin, LargeRecordViewSet
):
    """ERP customers; ``create-contact`` makes and links their contact."""

    queryset = models.Customer.objects.all()
    serializer_class = serializers.ErpCustomerSerializer
    filterset_class = filters.ErpCustomerFilterSet
    search_fields = ('no', 'name', 'name_2', 'email', 'city')
    ordering_fields = ('id', 'system_id', 'created_at', 'modified_at', 'no', 'name', 'credit_limit_lcy')
    bulk_key_field = "no"


class ErpVendorViewSet(RecordCreateContactActionsMixin, LargeRecordViewSet):
    """ERP vendors; ``create-contact`` makes and links their contact."""

    queryset = models.Vendor.objects.all()
    serializer_class = serializers.ErpVendorSerializer
    filterset_class = filters.ErpVendorFilterSet
    search_fields = ('no', 'name', 'name_2', 'email', 'city')
    ordering_fields = ('id', 'system_id', 'created_at', 'modified_at', 'no', 'name')


class ErpBankAccountViewSet(RecordCreateContactActionsMixin, RecordViewSet):
    """ERP bank accounts; ``create-contact`` makes and links their contact."""

    queryset = models.BankAccount.objects.all()
    serializer_class = serializers.ErpBankAccountSerializer
    filterset_class = filters.ErpBankAccountFilterSet
    search_fields = ('no', 'name', 'name_2', 'email', 'city')
    ordering_fields = ('id', 'system_id', 'created_at', 'modified_at', 'no', 'name')
    ordering = ('no', 'pk')


class ErpContactBusinessRelationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only: links are made and removed with the contact operations (``contacts/{no}/link/``, ``unlink/``,
    ``create-customer/`` …), which check what a direct write would not (one link of each kind per contact, the
    Marketing Setup code, the person's company) and make the linked records' common information identical."""

    queryset = models.ContactBusinessRelation.objects.all()
    serializer_class = serializers.ErpContactBusinessRelationSerializer
    filterset_class = filters.ErpContactBusinessRelationFilterSet
    search_fields = ('no',)
    ordering_fields = ('id',)
    ordering = ('contact', 'link_to_table', 'pk')


# Items, resources, prices and documents; the large lists in keyset pages by modified_at.
ErpItemViewSet = erp_viewset(
    models.Item, *viewset_mixins(models.Item), LargeRecordViewSet,
    search=("no", "description"), order_by=("no", "description", "unit_price"),
)
ErpResourceViewSet = erp_viewset(
    models.Resource, *viewset_mixins(models.Resource), RecordViewSet,
    search=("no", "name"), order_by=("no", "name", "unit_price"), ordering=("no", "pk"),
)
ErpSalesPriceViewSet = erp_viewset(
    models.SalesPrice, *viewset_mixins(models.SalesPrice), LargeRecordViewSet, search=("sales_code",), order_by=("unit_price",)
)
ErpOpportunityViewSet = erp_viewset(
    models.Opportunity, *viewset_mixins(models.Opportunity), LargeRecordViewSet,
    search=("no", "description"), order_by=("no", "description"),
)
ErpSalesHeaderViewSet = erp_viewset(
    models.SalesHeader, *viewset_mixins(models.SalesHeader), LargeRecordViewSet,
    search=("no", "external_document_no"), order_by=("amount",),
)
ErpSalesInvoiceHeaderViewSet = erp_viewset(
    models.SalesInvoiceHeader, *viewset_mixins(models.SalesInvoiceHeader), LargeRecordViewSet,
    search=("no", "external_document_no"), order_by=("amount", "no"),
)
LINE = {"search": ("no", "description"), "order_by": ("line_no", "description", "unit_price", "amount")}
ErpSalesLineViewSet = erp_viewset(models.SalesLine, LargeRecordViewSet, **LINE)
ErpSalesInvoiceLineViewSet = erp_viewset(models.SalesInvoiceLine, *viewset_mixins(models.SalesInvoiceLine), LargeRecordViewSet, **LINE)
ErpPurchaseHeaderViewSet = erp_viewset(models.PurchaseHeader, LargeRecordViewSet, search=("no",))
ErpInteractionLogEntryViewSet = erp_viewset(
    models.InteractionLogEntry, RecordViewSet,
    search=("description",), order_by=("description", "created_at"), ordering=("-created_at", "pk"),
)


# The records deleted in the last days (p2c.deletions), read-only
ErpDeletedRecordViewSet = deletion_log_viewset(models.DeletedRecord)
