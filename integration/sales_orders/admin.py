"""What the Sales admin shows and does for docs/features.md I9, added to ``crm/admin.py``'s classes
(p2c.admin_extensions):

- `create_in_erp`: the "Create in ERP" action on Sales orders (a door onto `sales_orders_create`), and
  `SalesOrderCreateInErpExtension`, which leaves out the engine's generic action of the same name;
- `SalesOrderLineAvailabilityExtension`: a read-only *ERP availability* column on a Sales order's lines;
- `ProductAvailabilityExtension`: *ERP inventory* and *ERP price* columns on the product list.

The availability is read live from the ERP for the whole page in a constant number of queries
(`integration.sales_orders.availability`), and shown while the connection setup has *Item Availability Enabled*.
"""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.sales_orders.availability import (
    amount_text,
    item_availability_enabled,
    item_availability_for,
    sales_order_availability,
)
from integration.sales_orders.creation import sales_orders_create
from p2c.admin_extensions import AdminExtension
from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused


@admin.action(description=_("Create in ERP"), permissions=["change"])
def create_in_erp(modeladmin, request, queryset):
    try:
        outcome = sales_orders_create(sales_orders=list(queryset.values_list("pk", flat=True)))
    except OperationRefused as exc:
        refused_message(modeladmin, request, exc)
        return
    for result in outcome.jobs[0].outcomes:
        if result.created and result.sales_order is not None:
            modeladmin.log_change(
                request,
                result.sales_order,
                gettext("Created in the ERP as order %(header_no)s.") % {"header_no": result.header.no},
            )
    outcome_message(modeladmin, request, outcome)


class SalesOrderCreateInErpExtension(AdminExtension):
    """For the Sales order list: *Create in ERP* is `create_in_erp`, not the engine's generic action (the engine does
    not create ERP orders: the SALESORDER-ORDER mapping only carries their status back)."""

    def get_actions(self, request, actions):
        actions.pop("create_in_counterpart", None)
        return actions


def _availability_text(availability):
    if availability is None:
        return gettext("Not coupled to an ERP item")
    parts = [f"{availability.no}"]
    if availability.inventory is not None:
        parts.append(f"inventory {availability.inventory.normalize():f}")
    parts.append(f"price {availability.price_label}")
    return " · ".join(parts)


class SalesOrderLineAvailabilityExtension(AdminExtension):
    """For the inline of Sales order lines: the ERP inventory and the customer's ERP price of each line's item."""

    availability_field = "erp_availability"
    display_methods = (availability_field,)

    def _shows_availability(self, request):
        # Inline instances, and so their extensions, are made per request: what is read here serves this page only.
        if not hasattr(self, "_enabled"):
            self._enabled = item_availability_enabled()
        return self._enabled

    def get_formset(self, request, obj, formset):
        shown = self._shows_availability(request) and obj is not None and obj.pk
        self._availability = sales_order_availability(sales_order=obj) if shown else {}
        return formset

    def get_fields(self, request, obj, fields):
        fields = [f for f in fields if f != self.availability_field]
        return [*fields, self.availability_field] if self._shows_availability(request) else fields

    def get_readonly_fields(self, request, obj, readonly):
        return (*readonly, self.availability_field) if self._shows_availability(request) else readonly

    @admin.display(description=_("ERP availability"))
    def erp_availability(self, line):
        if line is None or line.pk is None or line.product_id is None:
            return "-"
        return _availability_text(getattr(self, "_availability", {}).get(line.product_id))


class ProductAvailabilityExtension(AdminExtension):
    """For the product list: the ERP inventory and unit price of the coupled item or resource, per page, after its
    quantity on hand."""

    availability_columns = ("erp_inventory", "erp_unit_price")
    display_methods = availability_columns
    after_column = "quantity_on_hand"

    def get_list_display(self, request, columns):
        if not self._shows_availability(request):
            return columns
        columns = list(columns)
        at = columns.index(self.after_column) + 1 if self.after_column in columns else len(columns)
        return (*columns[:at], *self.availability_columns, *columns[at:])

    def _shows_availability(self, request):
        if not hasattr(request, "_p2c_item_availability"):
            request._p2c_item_availability = item_availability_enabled()
        return request._p2c_item_availability

    def get_changelist_instance(self, request, changelist):
        if not self._shows_availability(request):
            return changelist
        products = list(changelist.result_list)
        availability = item_availability_for(products=products)
        for product in products:
            product._erp_availability = availability.get(product.pk)
        changelist.result_list = products
        return changelist

    @admin.display(description=_("ERP inventory"))
    def erp_inventory(self, product):
        availability = getattr(product, "_erp_availability", None)
        if availability is None or availability.inventory is None:
            return "-"
        return f"{availability.inventory.normalize():f}"

    @admin.display(description=_("ERP price"))
    def erp_unit_price(self, product):
        availability = getattr(product, "_erp_availability", None)
        return "-" if availability is None else amount_text(availability.unit_price)
