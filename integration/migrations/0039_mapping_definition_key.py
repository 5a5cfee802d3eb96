"""A table mapping names its declared mapping (integration/mappings/) by key rather than a rules module.

The keys of the mappings that had rules are the names of their former rules modules, so those rows keep their value;
the default mappings that had none (the option mappings, CUSTPRCGRP-PRICE) are given their key by their name.
"""

import django.db.models
from django.db import migrations

import integration.catalogue.definitions

# The default mappings without a rules module, by the name the set-up gave them → their key.
KEYS_OF_DEFAULTS_WITHOUT_RULES = {
    "PAYMENT TERMS": "payment_terms",
    "SHIPMENT METHOD": "shipment_method",
    "SHIPPING AGENT": "shipping_agent",
    "CUSTPRCGRP-PRICE": "customer_price_group",
}


def keys_give(apps, schema_editor):
    mappings = apps.get_model("integration", "IntegrationTableMapping")
    for name, key in KEYS_OF_DEFAULTS_WITHOUT_RULES.items():
        mappings.objects.filter(name=name, definition_key="", user_defined=False).update(definition_key=key)


def keys_take_back(apps, schema_editor):
    mappings = apps.get_model("integration", "IntegrationTableMapping")
    mappings.objects.filter(definition_key__in=KEYS_OF_DEFAULTS_WITHOUT_RULES.values()).update(definition_key="")


class Migration(migrations.Migration):

    dependencies = [
        ("integration", "0038_fo_run_said_messages"),
    ]

    operations = [
        migrations.RenameField(
            model_name="integrationtablemapping",
            old_name="rules_module",
            new_name="definition_key",
        ),
        migrations.AlterField(
            model_name="integrationtablemapping",
            name="definition_key",
            field=django.db.models.CharField(
                blank=True, choices=integration.catalogue.definitions.definition_choices,
                error_messages={"invalid_choice": "%(value)r is not a declared mapping (integration/mappings/)."},
                help_text="The declared mapping (integration/mappings/) whose rules this mapping follows. Blank: none.",
                max_length=50, verbose_name="Definition",
            ),
        ),
        migrations.RunPython(keys_give, keys_take_back),
    ]
