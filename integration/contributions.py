"""What the integration adds to the Sales and ERP admin screens and API (p2c.extensions), registered from
``IntegrationConfig.ready()`` (which imports this module: the models are loaded by then): the Sales and ERP apps do
not import the integration, and work without it.

- every Sales and ERP list: the coupling column, filter and list actions (integration.admin.coupling);
- the tables of the declared mappings (integration/mappings/, ``coupling_api``) through the API: ``couple/``,
  ``uncouple/``, ``synchronize/`` and ``create-counterpart/`` (integration.api.record_actions);
- Sales orders and products: *Create in ERP* and the ERP availability columns (integration.sales_orders.admin);
- the admin index and the Integration app page: where to start, and the conflicts waiting;
- externally maintained ERP contacts and customers: the fields the Sales synchronisation writes, read-only in the
  admin and refused by the API (integration.fo.externally_maintained).
"""

from django.apps import apps

from p2c import extensions

from .admin.coupling import CouplingAdminExtension
from .admin.sales_remote import sales_remote_notice
from .api.externally_maintained import ExternallyMaintainedSerializerMixin
from .api.record_actions import CrmCouplingActionsMixin, ErpCouplingActionsMixin
from .fo.externally_maintained import externally_maintained_fields
from .mappings import coupled_api_models
from .sales_orders.admin import (
    ProductAvailabilityExtension,
    SalesOrderCreateInErpExtension,
    SalesOrderLineAvailabilityExtension,
    create_in_erp,
)

EXTERNALLY_MAINTAINED_MODELS = ("erp.Contact", "erp.Customer")


def contributions_register():
    add = extensions.extension_add
    for app_label in ("crm", "erp"):
        add(key=app_label, kind=extensions.ADMIN_EXTENSION, extension=CouplingAdminExtension)
    for label in coupled_api_models():
        mixin = CrmCouplingActionsMixin if label.startswith("crm.") else ErpCouplingActionsMixin
        add(key=apps.get_model(label), kind=extensions.VIEWSET_MIXIN, extension=mixin)
    for label in EXTERNALLY_MAINTAINED_MODELS:
        model = apps.get_model(label)
        add(key=model, kind=extensions.SERIALIZER_MIXIN, extension=ExternallyMaintainedSerializerMixin)
        add(key=model, kind=extensions.EXTERNALLY_MAINTAINED_FIELDS, extension=externally_maintained_fields)
    product = apps.get_model("crm.Product")
    add(key=product, kind=extensions.ADMIN_EXTENSION, extension=ProductAvailabilityExtension)
    sales_order = apps.get_model("crm.SalesOrder")
    add(key=sales_order, kind=extensions.ADMIN_EXTENSION, extension=SalesOrderCreateInErpExtension)
    add(key=sales_order, kind=extensions.ADMIN_ACTION, extension=create_in_erp)
    add(key=apps.get_model("crm.SalesOrderDetail"), kind=extensions.INLINE_EXTENSION,
        extension=SalesOrderLineAvailabilityExtension)
    add(key="crm", kind=extensions.ADMIN_PAGE_NOTICE, extension=sales_remote_notice)
    for template in ("admin/integration/_start_here.html", "admin/integration/_conflicts_waiting.html"):
        add(key="integration", kind=extensions.ADMIN_INDEX_TEMPLATE, extension=template)
