"""An account or contact without a number holds NULL, not "": the unique columns then hold any number of
unnumbered rows (an imported database), which p2c_upgrade numbers (docs/features.md P3)."""

from django.db import migrations, models


def blanks_to_null(apps, schema_editor):
    for model_name, field in (("Account", "account_number"), ("Contact", "contact_number")):
        model = apps.get_model("crm", model_name)
        model._base_manager.filter(**{field: ""}).update(**{field: None})


def null_to_blanks(apps, schema_editor):
    # Back to the old shape only works with at most one unnumbered row per table (the old unique column).
    for model_name, field in (("Account", "account_number"), ("Contact", "contact_number")):
        model = apps.get_model("crm", model_name)
        model._base_manager.filter(**{f"{field}__isnull": True}).update(**{field: ""})


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='account_number',
            field=models.CharField(blank=True, max_length=20, null=True, unique=True, verbose_name='Account Number'),
        ),
        migrations.AlterField(
            model_name='contact',
            name='contact_number',
            field=models.CharField(blank=True, max_length=20, null=True, unique=True, verbose_name='Contact Number'),
        ),
        migrations.RunPython(blanks_to_null, null_to_blanks),
    ]
