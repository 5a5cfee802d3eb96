"""``GET /api/integration/item-availability/?products=<id>,<id>&account=<id>&quantity=<n>`` (docs/features.md I9).

For each coupled Sales product, the ERP item or resource behind it, its ERP inventory and the ERP price for the
account's customer (customer price group price, else the unit price), read live from the ERP in a constant number
of queries (`integration.sales_orders.availability`). Products that are not coupled are simply not in the answer.
Reading it needs permission to view Sales products; while the connection setup does not have *Item
Availability Enabled*, the answer is 409.
"""

import uuid
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from integration.sales_orders.availability import item_availability_enabled, item_availability_for

MAX_PRODUCTS = 500


class CanViewProducts(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("crm.view_product"))


class ItemAvailabilitySerializer(serializers.Serializer):
    product = serializers.UUIDField(source="product_id")
    erp_table = serializers.CharField(source="erp_model")
    no = serializers.CharField()
    description = serializers.CharField()
    inventory = serializers.DecimalField(max_digits=19, decimal_places=5, allow_null=True)
    unit_price = serializers.DecimalField(max_digits=19, decimal_places=4)
    price_source = serializers.ChoiceField(choices=["customer_price_group", "unit_price"])
    customer_price_group = serializers.CharField(allow_blank=True)
    unit_of_measure = serializers.CharField(allow_blank=True)
    customer_no = serializers.CharField(allow_blank=True)


def _uuids(raw, name):
    try:
        return [uuid.UUID(part.strip()) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValidationError({name: [gettext("Give Sales ids (UUIDs), separated by commas.")]}) from None


class ItemAvailabilityViewSet(viewsets.ViewSet):
    permission_classes = [CanViewProducts]

    @extend_schema(
        parameters=[
            OpenApiParameter("products", OpenApiTypes.STR, required=True,
                             description=gettext_lazy("Sales product ids, separated by commas (or the parameter repeated).")),
            OpenApiParameter("account", OpenApiTypes.UUID, required=False,
                             description=gettext_lazy("The Sales account whose ERP customer's prices apply.")),
            OpenApiParameter("quantity", OpenApiTypes.DECIMAL, required=False,
                             description=gettext_lazy("Quantity ordered: prices with a higher minimum quantity do not apply.")),
        ],
        responses={200: ItemAvailabilitySerializer(many=True), 409: OpenApiTypes.OBJECT},
    )
    def list(self, request):
        if not item_availability_enabled():
            return Response({"detail": gettext("Item availability is not enabled in the connection setup."),
                             "code": "item_availability_disabled"}, status=status.HTTP_409_CONFLICT)
        raw = request.query_params.getlist("products")
        if not raw or not any(part.strip() for part in raw):
            raise ValidationError({"products": [gettext("This parameter is required.")]})
        products = [pk for part in raw for pk in _uuids(part, "products")]
        if len(products) > MAX_PRODUCTS:
            raise ValidationError(
                {"products": [gettext("At most %(max_products)s products at a time.") % {"max_products": MAX_PRODUCTS}]}
            )
        account = request.query_params.get("account")
        account = _uuids(account, "account")[0] if account and _uuids(account, "account") else None
        quantity = request.query_params.get("quantity") or "1"
        try:
            quantity = Decimal(quantity)
            if not quantity.is_finite() or quantity < 0 or quantity > Decimal("1e12"):
                raise InvalidOperation
        except InvalidOperation:
            raise ValidationError({"quantity": [gettext("A number of zero or more.")]}) from None
        availability = item_availability_for(products=products, account=account, quantity=quantity)
        rows = [availability[pk] for pk in dict.fromkeys(products) if pk in availability]
        return Response(ItemAvailabilitySerializer(rows, many=True).data)
