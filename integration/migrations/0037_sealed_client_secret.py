"""The Sales connection's client secret kept encrypted (p2c.sealing): the column made wide enough for a sealed
value, and a secret kept in clear before sealed (read in clear, written sealed by the field); back: in clear
again."""

from django.db import migrations, models

import p2c.sealing


def seal(apps, schema_editor):
    setups = apps.get_model("integration", "ConnectionSetup").objects.using(schema_editor.connection.alias)
    for pk, secret in setups.values_list("pk", "sales_api_client_secret"):
        if secret:  # in clear, or sealed already (sealed again: the same secret)
            setups.filter(pk=pk).update(sales_api_client_secret=secret)


def unseal(apps, schema_editor):
    setups = apps.get_model("integration", "ConnectionSetup").objects.using(schema_editor.connection.alias)
    for pk, secret in setups.values_list("pk", "sales_api_client_secret"):
        if secret:
            setups.filter(pk=pk).update(sales_api_client_secret=models.Value(secret,
                                                                             output_field=models.CharField()))


class Migration(migrations.Migration):

    dependencies = [
        ('integration', '0036_full_sync_said_messages'),
    ]

    operations = [
        migrations.AlterField(
            model_name='connectionsetup',
            name='sales_api_client_secret',
            field=p2c.sealing.SealedCharField(blank=True, editable=False, max_length=1000, verbose_name='Client Secret'),
        ),
        migrations.RunPython(seal, unseal),
    ]
