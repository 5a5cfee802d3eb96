"""Viewsets of the Sales (CRM) models. Writes record the Sales user of the login as ``modifiedby``."""


from crm import models
from p2c.api.deletions import deletion_log_viewset
from p2c.api.exceptions import StateConflict
from p2c.api.viewsets import BulkUpsertMixin, LargeRecordViewSet, RecordViewSet, bulk_schema
from p2c.records import writing_as

from . import filters, serializers


class CrmWriteMixin:
    """Every write through the API records the Sales user linked to the login (if any) as ``modifiedby``."""

    def writing(self):
        user = self.request.user
        writer = models.SystemUser.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
        return writing_as(writer)


class CrmRecordViewSet(CrmWriteMixin, RecordViewSet):
    pass


class CrmLargeRecordViewSet(CrmWriteMixin, LargeRecordViewSet):
    pass


class HandEditGuardMixin:
    """Deleting a price list the integration keeps, or one of its lines, is refused (409 ``integration_managed``)
    like changing it."""

    def perform_destroy(self, instance):
        error = instance.hand_edit_error()
        if error:
            raise StateConflict(error, code=serializers.INTEGRATION_MANAGED)
        super().perform_destroy(instance)


# One viewset per table: its serializer and filterset (crm/api/serializers.py, filters.py), what ``?search=`` reads,
# what ``?ordering=`` takes (id, createdon, modifiedon, then the table's own). The integration's actions on the record
# are mixins it registers, taken by each request's viewset (p2c.extensions).

# Setup records: page-numbered lists in a fixed order.
class CrmSystemUserViewSet(CrmRecordViewSet):
    queryset = models.SystemUser.objects.all()
    serializer_class = serializers.CrmSystemUserSerializer
    filterset_class = filters.CrmSystemUserFilterSet
    search_fields = ("fullname", "first_name", "last_name", "internal_email")
    ordering_fields = ("id", "createdon", "modifiedon", "fullname", "last_name")
    ordering = ("fullname", "pk")


class CrmTransactionCurrencyViewSet(CrmRecordViewSet):
    queryset = models.TransactionCurrency.objects.all()
    serializer_class = serializers.CrmTransactionCurrencySerializer
    filterset_class = filters.CrmTransactionCurrencyFilterSet
    search_fields = ("iso_currency_code",)
    ordering_fields = ("id", "createdon", "modifiedon", "iso_currency_code")
    ordering = ("iso_currency_code", "pk")


class CrmUnitGroupViewSet(CrmRecordViewSet):
    queryset = models.UnitGroup.objects.all()
    serializer_class = serializers.CrmUnitGroupSerializer
    filterset_class = filters.CrmUnitGroupFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "createdon", "modifiedon", "name", "description")
    ordering = ("name", "pk")


class CrmUnitViewSet(CrmRecordViewSet):
    queryset = models.Unit.objects.all()
    serializer_class = serializers.CrmUnitSerializer
    filterset_class = filters.CrmUnitFilterSet
    search_fields = ("name",)
    ordering_fields = ("id", "createdon", "modifiedon", "name")
    ordering = ("unit_group__name", "name", "pk")


class CrmPriceLevelViewSet(HandEditGuardMixin, CrmRecordViewSet):
    __doc__ = HandEditGuardMixin.__doc__  # the endpoints' description, before the mixins' the integration adds
    queryset = models.PriceLevel.objects.all()
    serializer_class = serializers.CrmPriceLevelSerializer
    filterset_class = filters.CrmPriceLevelFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "createdon", "modifiedon", "name", "description")
    ordering = ("name", "pk")


# The large lists: keyset pages by modifiedon.
class CrmProductViewSet(CrmLargeRecordViewSet):
    queryset = models.Product.objects.all()
    serializer_class = serializers.CrmProductSerializer
    filterset_class = filters.CrmProductFilterSet
    search_fields = ("product_number", "name", "description")
    ordering_fields = ("id", "createdon", "modifiedon", "product_number", "name", "description", "price")


class CrmProductPriceLevelViewSet(HandEditGuardMixin, CrmLargeRecordViewSet):
    __doc__ = HandEditGuardMixin.__doc__  # the endpoints' description, before the mixins' the integration adds
    queryset = models.ProductPriceLevel.objects.all()
    serializer_class = serializers.CrmProductPriceLevelSerializer
    filterset_class = filters.CrmProductPriceLevelFilterSet
    search_fields = ("product_number",)
    ordering_fields = ("id", "createdon", "modifiedon", "amount")


@bulk_schema(serializers.CrmAccountSerializer, "account_number")
class CrmAccountViewSet(BulkUpsertMixin, CrmLargeRecordViewSet):
    queryset = models.Account.objects.all()
    serializer_class = serializers.CrmAccountSerializer
    filterset_class = filters.CrmAccountFilterSet
    search_fields = ("account_number", "name", "description", "emailaddress1", "address1_city")
    ordering_fields = ("id", "createdon", "modifiedon", "account_number", "name", "description")
    bulk_key_field = "account_number"


@bulk_schema(serializers.CrmContactSerializer, "contact_number")
class CrmContactViewSet(BulkUpsertMixin, CrmLargeRecordViewSet):
    queryset = models.Contact.objects.all()
    serializer_class = serializers.CrmContactSerializer
    filterset_class = filters.CrmContactFilterSet
    search_fields = (
        "contact_number", "full_name", "first_name", "last_name", "description", "emailaddress1", "address1_city"
    )
    ordering_fields = ("id", "createdon", "modifiedon", "contact_number", "last_name", "full_name", "description")
    bulk_key_field = "contact_number"


class CrmOpportunityViewSet(CrmLargeRecordViewSet):
    queryset = models.Opportunity.objects.all()
    serializer_class = serializers.CrmOpportunitySerializer
    filterset_class = filters.CrmOpportunityFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "createdon", "modifiedon", "name", "description")


# Sales documents and their lines: quotes, orders and invoices are searched and ordered by the same fields, those of
# crm.models.SalesDocument, and their lines by those of DocumentLine.
DOCUMENT_SEARCH_FIELDS = ("number", "name", "description")
DOCUMENT_ORDERING_FIELDS = ("id", "createdon", "modifiedon", "name", "total_amount", "description", "number")
LINE_SEARCH_FIELDS = ("description", "product_description")
LINE_ORDERING_FIELDS = ("id", "createdon", "modifiedon", "line_number", "description")


class CrmQuoteViewSet(CrmLargeRecordViewSet):
    queryset = models.Quote.objects.all()
    serializer_class = serializers.CrmQuoteSerializer
    filterset_class = filters.CrmQuoteFilterSet
    search_fields = DOCUMENT_SEARCH_FIELDS
    ordering_fields = DOCUMENT_ORDERING_FIELDS


class CrmQuoteDetailViewSet(CrmLargeRecordViewSet):
    queryset = models.QuoteDetail.objects.all()
    serializer_class = serializers.CrmQuoteDetailSerializer
    filterset_class = filters.CrmQuoteDetailFilterSet
    search_fields = LINE_SEARCH_FIELDS
    ordering_fields = LINE_ORDERING_FIELDS


class CrmSalesOrderViewSet(CrmLargeRecordViewSet):
    queryset = models.SalesOrder.objects.all()
    serializer_class = serializers.CrmSalesOrderSerializer
    filterset_class = filters.CrmSalesOrderFilterSet
    search_fields = DOCUMENT_SEARCH_FIELDS
    ordering_fields = DOCUMENT_ORDERING_FIELDS


class CrmSalesOrderDetailViewSet(CrmLargeRecordViewSet):
    queryset = models.SalesOrderDetail.objects.all()
    serializer_class = serializers.CrmSalesOrderDetailSerializer
    filterset_class = filters.CrmSalesOrderDetailFilterSet
    search_fields = LINE_SEARCH_FIELDS
    ordering_fields = LINE_ORDERING_FIELDS


class CrmInvoiceViewSet(CrmLargeRecordViewSet):
    queryset = models.Invoice.objects.all()
    serializer_class = serializers.CrmInvoiceSerializer
    filterset_class = filters.CrmInvoiceFilterSet
    search_fields = DOCUMENT_SEARCH_FIELDS
    ordering_fields = DOCUMENT_ORDERING_FIELDS


class CrmInvoiceDetailViewSet(CrmLargeRecordViewSet):
    queryset = models.InvoiceDetail.objects.all()
    serializer_class = serializers.CrmInvoiceDetailSerializer
    filterset_class = filters.CrmInvoiceDetailFilterSet
    search_fields = LINE_SEARCH_FIELDS
    ordering_fields = LINE_ORDERING_FIELDS


# The records deleted in the last days (p2c.deletions), read-only
CrmDeletedRecordViewSet = deletion_log_viewset(models.DeletedRecord)
