"""The default table and field mappings (docs/features.md I2, I3, I5), as data, and the function that (re)creates them.

Names, directions, filters and dependencies follow Business Central's defaults for its Sales
integration; field names are this project's. Field tuples are ``(erp_field, crm_field, direction, options)`` with
direction ``"bi"``, ``"to"`` (ERP → Sales) or ``"from"`` (Sales → ERP); ``{"match": n}`` marks the field for
match-based coupling with priority ``n`` (fields of one priority must all be equal).

Every mapping that can meet records on both sides has match fields, because the full synchronisation review
recommends *couple records* for it and couples by them before synchronising (BC page 5373): without them a full
synchronisation would either stop at the coupling or duplicate what both sides have. A reference (a contact, a
product, an invoice) matches through its coupling; a sales price also matches on the price list of its sales code
(integration/rules/sales_price.py).
"""

from django.db import transaction

from integration.models import IntegrationFieldMapping, IntegrationTableMapping, ValueMap

BI, TO, FROM = "bidirectional", "to_integration", "from_integration"
_DIRECTIONS = {"bi": BI, "to": TO, "from": FROM}

ADDRESS_FIELDS = [
    ("address", "address1_line1", "bi", {}),
    ("address_2", "address1_line2", "bi", {}),
    ("post_code", "address1_postalcode", "bi", {}),
    ("city", "address1_city", "bi", {}),
    ("country_region_code", "address1_country", "bi", {}),
    ("county", "address1_stateorprovince", "bi", {}),
]

OPTION_MAPPINGS = {
    # name: (ERP code table, Sales option field on the account)
    "PAYMENT TERMS": ("erp.PaymentTerms", "payment_terms_code"),
    "SHIPMENT METHOD": ("erp.ShipmentMethod", "address1_freight_terms_code"),
    "SHIPPING AGENT": ("erp.ShippingAgent", "address1_shipping_method_code"),
}

MAPPINGS = [
    {
        "name": "SALESPEOPLE", "erp": "erp.SalespersonPurchaser", "crm": "crm.SystemUser", "direction": FROM,
        "crm_filter": {"is_disabled": False, "is_licensed": True, "is_integration_user": False},
        "rules": "salesperson",
        "fields": [
            ("email", "internal_email", "from", {"match": 1}),
            ("name", "fullname", "from", {"match": 2}),
            ("phone_no", "mobile_phone", "from", {}),
            ("job_title", "title", "from", {}),
        ],
    },
    {
        "name": "CURRENCY", "erp": "erp.Currency", "crm": "crm.TransactionCurrency", "direction": TO,
        "erp_filter": {"~iso_code": ""}, "rules": "currency",
        "fields": [
            ("iso_code", "iso_currency_code", "to", {"match": 1}),
            ("symbol", "currency_symbol", "to", {}),
            ("description", "currency_name", "to", {}),
            ("exchange_rate", "exchange_rate", "to", {}),
        ],
    },
    {
        "name": "UNIT OF MEASURE", "erp": "erp.UnitOfMeasure", "crm": "crm.UnitGroup", "direction": TO,
        "rules": "unit_of_measure",
        "fields": [
            ("code", "name", "to", {"match": 1}),
            ("code", "base_uom_name", "to", {}),
            ("description", "description", "to", {}),
        ],
    },
    *[
        {
            "name": name, "erp": erp_model, "crm": "crm.Account", "direction": TO, "option_field": option_field,
            "sync_only_coupled": False, "fields": [],
        }
        for name, (erp_model, option_field) in OPTION_MAPPINGS.items()
    ],
    {
        "name": "CUSTOMER", "erp": "erp.Customer", "crm": "crm.Account", "direction": BI,
        "erp_filter": {"blocked": ""}, "crm_filter": {"state_code": "active", "customer_type_code": "customer"},
        "depends": ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD", "SHIPPING AGENT"],
        "rules": "customer",
        "fields": [
            ("", "customer_type_code", "to", {"constant": "customer"}),
            ("salesperson", "owner", "to", {"not_null": True}),
            ("name", "name", "bi", {"match": 2}),
            ("contact", "address1_primary_contact_name", "bi", {"validate": False}),
            *ADDRESS_FIELDS,
            ("currency", "transaction_currency", "bi", {}),
            ("email", "emailaddress1", "bi", {"match": 1}),
            ("fax_no", "fax", "bi", {}),
            ("home_page", "websiteurl", "bi", {"validate": False}),
            ("phone_no", "telephone1", "bi", {}),
            ("shipment_method", "address1_freight_terms_code", "bi", {"value_map": "SHIPMENT METHOD"}),
            ("shipping_agent", "address1_shipping_method_code", "bi", {"value_map": "SHIPPING AGENT"}),
            ("payment_terms", "payment_terms_code", "bi", {"value_map": "PAYMENT TERMS"}),
            ("credit_limit_lcy", "credit_limit", "to", {}),
            ("primary_contact", "primary_contact", "bi", {"clear_on_failure": True}),
        ],
    },
    {
        "name": "CONTACT", "erp": "erp.Contact", "crm": "crm.Contact", "direction": BI,
        "erp_filter": {"type": "person", "company__isnull": False},
        "crm_filter": {"parent_account__isnull": False, "state_code": "active"},
        "depends": ["CUSTOMER"], "rules": "contact",
        "fields": [
            ("type", "", "from", {"constant": "person"}),
            ("salesperson", "owner", "to", {"not_null": True}),
            ("currency", "transaction_currency", "bi", {}),
            *ADDRESS_FIELDS,
            ("email", "emailaddress1", "bi", {"match": 1}),
            ("fax_no", "fax", "bi", {}),
            ("first_name", "first_name", "bi", {"match": 2}),
            ("middle_name", "middle_name", "bi", {}),
            ("surname", "last_name", "bi", {"match": 2}),
            ("job_title", "job_title", "bi", {}),
            ("home_page", "websiteurl", "bi", {"validate": False}),
            ("mobile_phone_no", "mobile_phone", "bi", {}),
            ("pager", "pager", "bi", {}),
            ("phone_no", "telephone1", "bi", {}),
        ],
    },
    {
        "name": "ITEM-PRODUCT", "erp": "erp.Item", "crm": "crm.Product", "direction": BI,
        "erp_filter": {"blocked": False}, "crm_filter": {"product_type_code": "sales_inventory"},
        "depends": ["UNIT OF MEASURE"], "rules": "item",
        "fields": [
            ("", "product_type_code", "to", {"constant": "sales_inventory", "create_only": True}),
            ("no", "product_number", "bi", {"match": 1}),
            ("description", "name", "bi", {}),
            ("unit_price", "price", "to", {}),
            ("unit_cost", "standard_cost", "to", {}),
            ("unit_cost", "current_cost", "to", {}),
            ("unit_volume", "stock_volume", "to", {}),
            ("gross_weight", "stock_weight", "to", {}),
            ("vendor", "vendor_id", "to", {}),
            ("vendor_item_no", "vendor_part_number", "to", {}),
            ("inventory", "quantity_on_hand", "to", {}),
            ("base_unit_of_measure", "default_uom_schedule", "bi", {}),
        ],
    },
    {
        "name": "RESOURCE-PRODUCT", "erp": "erp.Resource", "crm": "crm.Product", "direction": BI,
        "erp_filter": {"blocked": False}, "crm_filter": {"product_type_code": "services"},
        "depends": ["UNIT OF MEASURE"], "rules": "resource",
        "fields": [
            ("", "product_type_code", "to", {"constant": "services", "create_only": True}),
            ("", "is_stock_item", "to", {"constant": "false", "create_only": True}),
            ("no", "product_number", "bi", {"match": 1}),
            ("name", "name", "bi", {}),
            ("unit_price", "price", "to", {}),
            ("unit_cost", "standard_cost", "to", {}),
            ("unit_cost", "current_cost", "to", {}),
            ("vendor", "vendor_id", "to", {}),
            ("capacity", "quantity_on_hand", "to", {}),
            ("base_unit_of_measure", "default_uom_schedule", "bi", {}),
        ],
    },
    {
        "name": "CUSTPRCGRP-PRICE", "erp": "erp.CustomerPriceGroup", "crm": "crm.PriceLevel", "direction": TO,
        "depends": ["CURRENCY"],
        "fields": [
            ("code", "name", "to", {"match": 1}),
            ("description", "description", "to", {}),
        ],
    },
    {
        "name": "SALESPRC-PRODPRICE", "erp": "erp.SalesPrice", "crm": "crm.ProductPriceLevel", "direction": TO,
        "sync_only_coupled": False, "erp_filter": {"sales_type": "customer_price_group", "~sales_code": ""},
        "depends": ["CUSTPRCGRP-PRICE", "ITEM-PRODUCT"], "rules": "sales_price",
        "fields": [
            ("item", "product", "to", {"match": 1}),  # with the price list of the sales code (rules' match scope)
            ("item", "product_number", "to", {}),
            ("currency", "transaction_currency", "to", {}),
            ("", "pricing_method_code", "to", {"constant": "currency_amount"}),
            ("unit_price", "amount", "to", {}),
        ],
    },
    {
        "name": "OPPORTUNITY", "erp": "erp.Opportunity", "crm": "crm.Opportunity", "direction": BI,
        "sync_only_coupled": False, "depends": ["CONTACT"], "rules": "opportunity",
        "fields": [
            ("description", "name", "bi", {"match": 1}),
            ("contact", "parent_contact", "bi", {"match": 1}),
            ("salesperson", "owner", "to", {"not_null": True}),
            ("estimated_value_lcy", "estimated_value", "to", {}),
            ("estimated_closing_date", "estimated_close_date", "to", {}),
        ],
    },
    {
        "name": "POSTEDSALESINV-INV", "erp": "erp.SalesInvoiceHeader", "crm": "crm.Invoice", "direction": TO,
        "sync_only_coupled": False, "rules": "posted_invoice",
        # Beyond BC (OPPORTUNITY only): the invoice's customer and its lines' products are coupled first.
        "depends": ["OPPORTUNITY", "CUSTOMER", "ITEM-PRODUCT", "RESOURCE-PRODUCT"],
        "fields": [
            ("no", "number", "to", {"match": 1}),
            ("no", "name", "to", {}),
            ("sell_to_customer", "customer_account", "to", {}),
            ("opportunity", "opportunity", "to", {"clear_on_failure": True}),
            ("salesperson", "owner", "to", {"not_null": True}),
            ("currency", "transaction_currency", "to", {}),
            ("due_date", "due_date", "to", {}),
            ("shipment_date", "date_delivered", "to", {}),
            ("ship_to_name", "shipto_name", "to", {}),
            ("ship_to_address", "shipto_line1", "to", {}),
            ("ship_to_address_2", "shipto_line2", "to", {}),
            ("ship_to_city", "shipto_city", "to", {}),
            ("ship_to_country_region_code", "shipto_country", "to", {}),
            ("ship_to_post_code", "shipto_postalcode", "to", {}),
            ("ship_to_county", "shipto_stateorprovince", "to", {}),
            ("bill_to_name", "billto_name", "to", {}),
            ("bill_to_address", "billto_line1", "to", {}),
            ("bill_to_address_2", "billto_line2", "to", {}),
            ("bill_to_city", "billto_city", "to", {}),
            ("bill_to_country_region_code", "billto_country", "to", {}),
            ("bill_to_post_code", "billto_postalcode", "to", {}),
            ("bill_to_county", "billto_stateorprovince", "to", {}),
            ("amount", "total_amount_less_freight", "to", {}),
            ("amount_including_vat", "total_amount", "to", {}),
            ("invoice_discount_amount", "discount_amount", "to", {}),
            ("shipping_agent", "shipping_method_code", "to", {"value_map": "SHIPPING AGENT"}),
            ("payment_terms", "payment_terms_code", "to", {"value_map": "PAYMENT TERMS"}),
        ],
    },
    {
        "name": "POSTEDSALESLINE-INV", "erp": "erp.SalesInvoiceLine", "crm": "crm.InvoiceDetail", "direction": TO,
        "sync_only_coupled": False, "parent": "POSTEDSALESINV-INV", "depends": ["POSTEDSALESINV-INV"],
        "rules": "posted_invoice_line",
        "fields": [
            ("invoice", "invoice", "to", {"match": 1}),
            ("line_no", "line_number", "to", {"match": 1}),
            ("description", "description", "to", {}),
            ("quantity", "quantity", "to", {}),
            ("line_discount_amount", "manual_discount_amount", "to", {}),
            ("unit_price", "price_per_unit", "to", {}),
            ("", "is_price_overridden", "to", {"constant": "true"}),
            ("amount", "base_amount", "to", {}),
            ("amount_including_vat", "extended_amount", "to", {}),
        ],
    },
    # -- Sales orders (docs/features.md I9; added by the sales-orders developer) ---------------------------------------
    # Sales orders become ERP orders through integration.sales_orders, whose runs are logged as jobs of this mapping
    # (direction Sales → ERP). The mapping itself carries the status of the coupled ERP orders back to Sales
    # (BC's "Sales Order Status" job); rules: integration/rules/sales_order.py.
    {
        "name": "SALESORDER-ORDER", "erp": "erp.SalesHeader", "crm": "crm.SalesOrder", "direction": TO,
        "erp_filter": {"document_type": "order"},
        "depends": ["CUSTOMER", "CURRENCY", "ITEM-PRODUCT", "RESOURCE-PRODUCT", "OPPORTUNITY"],
        "rules": "sales_order",
        "fields": [
            ("status", "status_reason", "to", {}),
            ("your_reference", "number", "to", {"match": 1, "create_only": True}),
        ],
    },
]


def default_mapping_names():
    return [spec["name"] for spec in MAPPINGS]


@transaction.atomic
def integration_setup_reset(*, names=None):
    """Create or restore the default mappings (all, or those in ``names``), their field mappings and value maps.

    Idempotent: running it again restores the defaults without duplicating anything. Couplings, jobs and the
    value map entries users added are kept; watermarks are kept too, so the next run stays incremental.
    """
    specs = [spec for spec in MAPPINGS if names is None or spec["name"] in names]
    value_maps = {}
    for name in OPTION_MAPPINGS:
        value_maps[name], _ = ValueMap.objects.get_or_create(
            name=name, defaults={"description": f"ERP {name.lower()} codes ↔ Sales account options"}
        )
    mappings = {}
    for order, spec in enumerate(MAPPINGS):
        if spec not in specs:
            continue
        mapping, _ = IntegrationTableMapping.objects.update_or_create(
            name=spec["name"],
            defaults={
                "erp_model": spec["erp"],
                "crm_model": spec["crm"],
                "crm_option_field": spec.get("option_field", ""),
                "direction": spec["direction"],
                "erp_filter": spec.get("erp_filter", {}),
                "crm_filter": spec.get("crm_filter", {}),
                "sync_only_coupled": spec.get("sync_only_coupled", True),
                # What users may have changed since goes back to the default too, as BC's "Reset to default".
                "create_new_if_no_match": False,
                "sync_after_match_coupling": False,
                "update_conflict_resolution": "",
                "deletion_conflict_resolution": "",
                "rules_module": spec.get("rules", ""),
                "sort_order": (order + 1) * 10,
                "user_defined": False,
                "is_enabled": True,
            },
        )
        mapping.field_mappings.all().delete()
        IntegrationFieldMapping.objects.bulk_create(
            [_field_mapping(mapping, field, value_maps) for field in spec["fields"]]
        )
        mappings[spec["name"]] = mapping
    all_mappings = {m.name: m for m in IntegrationTableMapping.objects.all()}
    for spec in specs:
        mapping = mappings[spec["name"]]
        mapping.dependencies.set([all_mappings[d] for d in spec.get("depends", []) if d in all_mappings])
        parent = all_mappings.get(spec.get("parent", ""))
        if mapping.parent_id != (parent.pk if parent else None):
            mapping.parent = parent
            mapping.save(update_fields=["parent"])
    for mapping in mappings.values():
        # The parents are set now (a user's mapping may have made a default's parent its own child), and the field
        # mappings exist: the same checks as the admin and the API.
        mapping.full_clean()
        for field_mapping in mapping.field_mappings.all():
            field_mapping.full_clean()
    return list(mappings.values())


def _field_mapping(mapping, field, value_maps):
    erp_field, crm_field, direction, options = field
    return IntegrationFieldMapping(
        table_mapping=mapping,
        erp_field=erp_field,
        crm_field=crm_field,
        direction=_DIRECTIONS[direction],
        constant_value=options.get("constant", ""),
        validate_field=options.get("validate", True),
        clear_value_on_failed_sync=options.get("clear_on_failure", False),
        not_null=options.get("not_null", False),
        value_map=value_maps.get(options.get("value_map")),
        use_for_match_coupling="match" in options,
        match_priority=options.get("match", 0),
        create_only=options.get("create_only", False),
    )
