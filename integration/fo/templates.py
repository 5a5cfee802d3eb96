"""Finance and Operations "prospect to cash" templates (docs/features.md P1, P4, P5), as data, and projects made from
them.

Each template holds ordered tasks; each task is one engine table mapping run in one direction (Sales → ERP
here), with its own filter, field mappings, and default values / value maps. Field tuples are
``(erp_field, crm_field, options)``: options ``constant``, ``match`` (match-based coupling priority),
``create_only``, ``not_null``, ``validate``. Defaults are ``{erp_field: {"default": ..., "required": ...}}``.

The routing of Sales contacts (P2) is the tasks' filters plus their rules modules (integration/rules/fo_*.py):
Is Active Customer = yes → an ERP customer (ContactToCustomer); = no and the company is an account → an ERP
contact person under the customer coupled to that account (Contacts). Every other contact is left out, and the
run counts it with its reason.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from integration.models import (
    IntegrationFieldMapping,
    IntegrationProject,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationTableMapping,
    IntegrationTemplate,
    IntegrationTemplateTask,
)

FROM = "from_integration"  # Sales → ERP, in the engine's (Business Central's) words

ACCOUNTS_TASK = "Accounts - Customers"
CONTACTS_TASK = "Contacts"
CONTACT_TO_CUSTOMER_TASK = "ContactToCustomer"

ACCOUNTS_TEMPLATE = "Accounts (Sales to Fin and Ops) - Direct"
CONTACTS_TEMPLATE = "Contacts (Sales to Fin and Ops) - Direct"
CONTACT_TO_CUSTOMER_TEMPLATE = "Contacts to Customer (Sales to Fin and Ops) - Direct"

_ADDRESS = [
    ("address", "address1_line1", {}),
    ("address_2", "address1_line2", {}),
    ("city", "address1_city", {}),
    ("post_code", "address1_postalcode", {}),
    ("county", "address1_stateorprovince", {}),
    ("country_region_code", "address1_country", {}),
]

# P4: customer group is required in the ERP (template default 10); language en-us; site and warehouse have no
# template value, the administrator may give them a default or a value map keyed on country/region or city.
_CUSTOMER_DEFAULTS = {
    "customer_group": {"default": "10", "required": True},
    "language_code": {"default": "en-us"},
    "site": {"default": ""},
    "warehouse": {"default": ""},
}

TEMPLATES = [
    {
        "name": ACCOUNTS_TEMPLATE,
        "description": "Sales accounts become Finance and Operations customers (Customers V2), externally "
                       "maintained; the account number is the customer number.",
        "tasks": [
            {
                "name": ACCOUNTS_TASK,
                "prerequisites": [],
                "erp": "erp.Customer", "crm": "crm.Account", "direction": FROM,
                "crm_filter": {"state_code": "active"},
                "rules": "fo_account",
                "fields": [
                    ("no", "account_number", {"match": 1}),
                    ("name", "name", {}),
                    *_ADDRESS,
                    ("phone_no", "telephone1", {}),
                    ("fax_no", "fax", {}),
                    ("email", "emailaddress1", {}),
                    ("home_page", "websiteurl", {"validate": False}),
                    ("credit_limit_lcy", "credit_limit", {"not_null": True}),
                    ("contact_type", "", {"constant": "company"}),
                    ("externally_maintained", "", {"constant": "true"}),
                ],
                "defaults": _CUSTOMER_DEFAULTS,
            },
        ],
    },
    {
        "name": CONTACTS_TEMPLATE,
        "description": "Sales contacts that are not active customers and whose company is an account become "
                       "Finance and Operations contact persons (CDS Contacts) of that account's customer.",
        "tasks": [
            {
                "name": CONTACTS_TASK,
                "prerequisites": [ACCOUNTS_TASK],
                "erp": "erp.Contact", "crm": "crm.Contact", "direction": FROM,
                "crm_filter": {"is_active_customer": False, "is_company_an_account": True},
                "rules": "fo_contact",
                "fields": [
                    ("no", "contact_number", {"match": 1}),
                    ("first_name", "first_name", {}),
                    ("middle_name", "middle_name", {}),
                    ("surname", "last_name", {}),
                    ("job_title", "job_title", {}),
                    *_ADDRESS,
                    ("phone_no", "telephone1", {}),
                    ("mobile_phone_no", "mobile_phone", {}),
                    ("fax_no", "fax", {}),
                    ("pager", "pager", {}),
                    ("email", "emailaddress1", {}),
                    ("home_page", "websiteurl", {"validate": False}),
                    ("type", "", {"constant": "person"}),
                    ("externally_maintained", "", {"constant": "true"}),
                ],
                "defaults": {},
            },
        ],
    },
    {
        "name": CONTACT_TO_CUSTOMER_TEMPLATE,
        "description": "Sales contacts that are active customers (they have quotes, orders or invoices) become "
                       "Finance and Operations person customers (Customers V2); the contact number is the "
                       "customer number.",
        "tasks": [
            {
                "name": CONTACT_TO_CUSTOMER_TASK,
                "prerequisites": [ACCOUNTS_TASK],
                "erp": "erp.Customer", "crm": "crm.Contact", "direction": FROM,
                "crm_filter": {"is_active_customer": True},
                "rules": "fo_contact_customer",
                "fields": [
                    ("no", "contact_number", {"match": 1}),
                    ("name", "full_name", {}),
                    *_ADDRESS,
                    ("phone_no", "telephone1", {}),
                    ("mobile_phone_no", "mobile_phone", {}),
                    ("fax_no", "fax", {}),
                    ("email", "emailaddress1", {}),
                    ("home_page", "websiteurl", {"validate": False}),
                    ("contact_type", "", {"constant": "person"}),
                    ("externally_maintained", "", {"constant": "true"}),
                ],
                "defaults": _CUSTOMER_DEFAULTS,
            },
        ],
    },
]


def _definition(task):
    return {
        "erp": task["erp"], "crm": task["crm"], "direction": task["direction"],
        "crm_filter": task.get("crm_filter", {}), "erp_filter": task.get("erp_filter", {}),
        "rules": task.get("rules", ""),
        "fields": [list(field) for field in task["fields"]],
        "defaults": task.get("defaults", {}),
    }


@transaction.atomic
def fo_templates_install(*, template_model=IntegrationTemplate, task_model=IntegrationTemplateTask):
    """Create or restore the shipped templates and their tasks. Idempotent; projects are never touched. Run by the
    data migration that ships them (with its historical models) and by ``p2c_run --create``; never by a page."""
    templates = []
    for spec in TEMPLATES:
        template, _ = template_model.objects.update_or_create(
            name=spec["name"], defaults={"description": spec["description"], "builtin": True}
        )
        names = []
        for sequence, task in enumerate(spec["tasks"], start=1):
            task_model.objects.update_or_create(
                template=template, name=task["name"],
                defaults={"sequence": sequence * 10, "definition": _definition(task),
                          "prerequisites": list(task.get("prerequisites", []))},
            )
            names.append(task["name"])
        task_model.objects.filter(template=template).exclude(name__in=names).delete()
        templates.append(template)
    return templates


def _mapping_name(project, task_name):
    return f"FO{project.pk:03d} {task_name}"[:30]


@transaction.atomic
def project_create(*, template, name, description=""):
    """Make a project from ``template``: one task per template task, each with its own engine table mapping,
    field mappings and defaults, so the administrator can change one project's filter or defaults alone."""
    if IntegrationProject.objects.filter(name=name).exists():
        raise ValidationError({"name": gettext("A project named %(name)s already exists.") % {"name": repr(name)}})
    project = IntegrationProject.objects.create(name=name, template=template, description=description)
    for template_task in template.tasks.order_by("sequence", "pk"):
        task_create(project=project, name=template_task.name, sequence=template_task.sequence,
                    definition=template_task.definition, prerequisites=template_task.prerequisites)
    return project


def task_create(*, project, name, sequence, definition, prerequisites=()):
    mapping = IntegrationTableMapping(
        name=_mapping_name(project, name),
        erp_model=definition["erp"], crm_model=definition["crm"], direction=definition["direction"],
        erp_filter=definition.get("erp_filter", {}), crm_filter=definition.get("crm_filter", {}),
        sync_only_coupled=False,  # a task upserts: it creates what has no match
        definition_key=definition.get("rules", ""),  # the key of its declared mapping (integration/mappings/fo.py)
        user_defined=True,
        # Runs only as a task of its project (project_run_execute calls the engine directly): disabled, it stays
        # out of the Business Central synchronisation (sync --all, full synchronisation, coupling actions, real
        # time), which picks mappings by is_enabled and by model pair (erp.Customer ↔ crm.Account is CUSTOMER's).
        is_enabled=False,
        sort_order=1000 + sequence,
    )
    mapping.full_clean()
    mapping.save()
    field_mappings = []
    for erp_field, crm_field, options in definition["fields"]:
        field_mappings.append(IntegrationFieldMapping(
            table_mapping=mapping, erp_field=erp_field, crm_field=crm_field, direction=definition["direction"],
            constant_value=options.get("constant", ""),
            validate_field=options.get("validate", True),
            not_null=options.get("not_null", False),
            use_for_match_coupling="match" in options, match_priority=options.get("match", 0),
            create_only=options.get("create_only", False),
        ))
    IntegrationFieldMapping.objects.bulk_create(field_mappings)
    for field_mapping in mapping.field_mappings.all():
        field_mapping.full_clean()
    task = IntegrationProjectTask.objects.create(
        project=project, name=name, sequence=sequence, table_mapping=mapping, prerequisites=list(prerequisites)
    )
    for erp_field, options in definition.get("defaults", {}).items():
        default = IntegrationProjectTaskDefault(
            task=task, erp_field=erp_field, default_value=options.get("default", ""),
            key_field=options.get("key_field", ""), value_map=options.get("value_map", {}),
            required=options.get("required", False),
        )
        default.full_clean()
        default.save()
    return task


@transaction.atomic
def project_delete(*, project):
    """Delete a project, its tasks and their table mappings (couplings and jobs stay: they belong to the pair)."""
    mapping_ids = list(project.tasks.values_list("table_mapping_id", flat=True))
    project.delete()
    IntegrationTableMapping.objects.filter(pk__in=mapping_ids).delete()
