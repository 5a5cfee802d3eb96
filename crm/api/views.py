"""Viewsets of the Sales (CRM) models. Writes record the Sales user of the login as ``modifiedby``."""


from crm import models
from p2c.api.deletions import deletion_log_viewset
from p2c.api.exceptions import StateConflict
from p2c.api.viewsets import BulkUpsertMixin, LargeRecordViewSet, RecordViewSet, viewset_for
from p2c.extensions import viewset_mixins
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


def crm_viewset(model, *bases, order_by=(), **attrs):
    """The viewset of a Sales model: its ``Crm<Model>Serializer`` and ``Crm<Model>FilterSet``, ordering by id,
    createdon, modifiedon and ``order_by`` (see ``p2c.api.viewsets.viewset_for`` for the rest).
    """
    name = f"Crm{model.__name__}"
    return viewset_for(
        model, *bases,
        name=f"{name}ViewSet",
        serializer_class=getattr(serializers, f"{name}Serializer"),
        filterset_class=getattr(filters, f"{name}FilterSet"),
        ordering_fields=("id", "createdon", "modifiedon", *order_by),
        __module__=__name__,
        **attrs,
    )


# Setup records: page-numbered lists in a fixed order.
CrmSystemUserViewSet = crm_viewset(
    models.SystemUser, *viewset_mixins(models.SystemUser), CrmRecordViewSet,
    search=("fullname", "first_name", "last_name", "internal_email"),
    order_by=("fullname", "last_name"), ordering=("fullname", "pk"),
)
CrmTransactionCurrencyViewSet = crm_viewset(
    models.TransactionCurrency, *viewset_mixins(models.TransactionCurrency), CrmRecordViewSet,
    search=("iso_currency_code",), order_by=("iso_currency_code",), ordering=("iso_currency_code", "pk"),
)
CrmUnitGroupViewSet = crm_viewset(
    models.UnitGroup, *viewset_mixins(models.UnitGroup), CrmRecordViewSet,
    search=("name", "description"), order_by=("name", "description"), ordering=("name", "pk"),
)
CrmUnitViewSet = crm_viewset(
    models.Unit, CrmRecordViewSet,
    search=("name",), order_by=("name",), ordering=("unit_group__name", "name", "pk"),
)
CrmPriceLevelViewSet = crm_viewset(
    models.PriceLevel, HandEditGuardMixin, *viewset_mixins(models.PriceLevel), CrmRecordViewSet,
    search=("name", "description"), order_by=("name", "description"), ordering=("name", "pk"),
)

# The large lists: keyset pages by modifiedon.
CrmProductViewSet = crm_viewset(
    models.Product, *viewset_mixins(models.Product), CrmLargeRecordViewSet,
    search=("product_number", "name", "description"),
    order_by=("product_number", "name", "description", "price"),
)
CrmProductPriceLevelViewSet = crm_viewset(
    models.ProductPriceLevel, HandEditGuardMixin, *viewset_mixins(models.ProductPriceLevel), CrmLargeRecordViewSet,
    search=("product_number",), order_by=("amount",),
)
CrmAccountViewSet = crm_viewset(
    models.Account, *viewset_mixins(models.Account), BulkUpsertMixin, CrmLargeRecordViewSet,
    search=("account_number", "name", "description", "emailaddress1", "address1_city"),
    order_by=("account_number", "name", "description"),
    bulk_key_field="account_number",
)
CrmContactViewSet = crm_viewset(
    models.Contact, *viewset_mixins(models.Contact), BulkUpsertMixin, CrmLargeRecordViewSet,
    search=("contact_number", "full_name", "first_name", "last_name", "description", "emailaddress1", "address1_city"),
    order_by=("contact_number", "last_name", "full_name", "description"),
    bulk_key_field="contact_number",
)
CrmOpportunityViewSet = crm_viewset(
    models.Opportunity, *viewset_mixins(models.Opportunity), CrmLargeRecordViewSet,
    search=("name", "description"), order_by=("name", "description"),
)

# Sales documents and their lines.
DOCUMENT = {"search": ("number", "name", "description"), "order_by": ("name", "total_amount", "description", "number")}
LINE = {"search": ("description", "product_description"), "order_by": ("line_number", "description")}

CrmQuoteViewSet = crm_viewset(models.Quote, CrmLargeRecordViewSet, **DOCUMENT)
CrmQuoteDetailViewSet = crm_viewset(models.QuoteDetail, CrmLargeRecordViewSet, **LINE)
CrmSalesOrderViewSet = crm_viewset(models.SalesOrder, *viewset_mixins(models.SalesOrder), CrmLargeRecordViewSet, **DOCUMENT)
CrmSalesOrderDetailViewSet = crm_viewset(models.SalesOrderDetail, CrmLargeRecordViewSet, **LINE)
CrmInvoiceViewSet = crm_viewset(models.Invoice, *viewset_mixins(models.Invoice), CrmLargeRecordViewSet, **DOCUMENT)
CrmInvoiceDetailViewSet = crm_viewset(models.InvoiceDetail, *viewset_mixins(models.InvoiceDetail), CrmLargeRecordViewSet, **LINE)


# The records deleted in the last days (p2c.deletions), read-only
CrmDeletedRecordViewSet = deletion_log_viewset(models.DeletedRecord)
