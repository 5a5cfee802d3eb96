"""The default table and field mappings, made from the declared mappings (integration/mappings/), and the function that
(re)creates them.

Names, directions, filters and dependencies follow Business Central's defaults for its Sales integration; field names
are this project's. Every mapping that can meet records on both sides has match fields, because the full
synchronisation review recommends *couple records* for it and couples by them before synchronising (BC page 5373):
without them a full synchronisation would either stop at the coupling or duplicate what both sides have. A reference
(a contact, a product, an invoice) matches through its coupling; a sales price also matches on the price list of its
sales code (integration/rules/sales_price.py).
"""

from django.db import transaction

from integration.mappings import definitions
from integration.models import IntegrationFieldMapping, IntegrationTableMapping, ValueMap


def default_definitions():
    """The declared mappings the set-up creates, in its order."""
    return [definition for definition in definitions() if definition.seeded]


def default_mapping_names():
    return [definition.name for definition in default_definitions()]


@transaction.atomic
def integration_setup_reset(*, names=None):
    """Create or restore the default mappings (all, or those in ``names``), their field mappings and value maps.

    Idempotent: running it again restores the defaults without duplicating anything. Couplings, jobs and the
    value map entries users added are kept; watermarks are kept too, so the next run stays incremental.
    """
    seeded = default_definitions()
    wanted = [d for d in seeded if names is None or d.name in names]
    value_maps = {}
    for definition in seeded:
        if definition.is_option_mapping:
            value_maps[definition.name], _ = ValueMap.objects.get_or_create(
                name=definition.name,
                defaults={"description": f"ERP {definition.name.lower()} codes ↔ Sales account options"},
            )
    mappings = {}  # key → the mapping (re)created
    for order, definition in enumerate(seeded):
        if definition not in wanted:
            continue
        mapping, _ = IntegrationTableMapping.objects.update_or_create(
            name=definition.name,
            defaults={
                "erp_model": definition.erp,
                "crm_model": definition.crm,
                "crm_option_field": definition.option_field,
                "direction": definition.direction,
                "erp_filter": dict(definition.erp_filter),
                "crm_filter": dict(definition.crm_filter),
                "sync_only_coupled": definition.sync_only_coupled,
                # What users may have changed since goes back to the default too, as BC's "Reset to default".
                "create_new_if_no_match": False,
                "sync_after_match_coupling": False,
                "update_conflict_resolution": "",
                "deletion_conflict_resolution": "",
                "definition_key": definition.key,
                "sort_order": (order + 1) * 10,
                "user_defined": False,
                "is_enabled": True,
            },
        )
        mapping.field_mappings.all().delete()
        IntegrationFieldMapping.objects.bulk_create(
            [_field_mapping(mapping, field, value_maps) for field in definition.fields]
        )
        mappings[definition.key] = mapping
    # Dependencies and parents by key: a mapping an administrator renamed is still the one depended on.
    by_key = {}
    for mapping in IntegrationTableMapping.objects.exclude(definition_key=""):
        by_key.setdefault(mapping.definition_key, mapping)
    by_key.update(mappings)
    for definition in wanted:
        mapping = mappings[definition.key]
        mapping.dependencies.set([by_key[key] for key in definition.depends if key in by_key])
        parent = by_key.get(definition.parent)
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
    return IntegrationFieldMapping(
        table_mapping=mapping,
        erp_field=field.erp,
        crm_field=field.crm,
        direction=field.direction,
        constant_value=field.constant,
        validate_field=field.validate,
        clear_value_on_failed_sync=field.clear_on_failure,
        not_null=field.not_null,
        value_map=value_maps.get(field.value_map),
        use_for_match_coupling=field.match > 0,
        match_priority=field.match,
        create_only=field.create_only,
    )
