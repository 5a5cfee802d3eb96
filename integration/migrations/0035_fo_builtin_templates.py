"""The shipped F&O templates are data: installed here, in every database migrated, rather than by the first GET of
their admin list (docs/decisions.md#bounded-and-total-doors: a page that writes). And the connection setup's ages
bounded to a hundred years (p2c.limits): past it "now minus the age" is no date."""

import django.core.validators
from django.db import migrations, models, router


def templates_install(apps, schema_editor):
    from integration.fo.templates import fo_templates_install

    template_model = apps.get_model("integration", "IntegrationTemplate")
    if not router.allow_migrate_model(schema_editor.connection.alias, template_model):  # the Sales database
        return
    fo_templates_install(template_model=template_model,
                         task_model=apps.get_model("integration", "IntegrationTemplateTask"))


class Migration(migrations.Migration):

    dependencies = [
        ("integration", "0034_side_cursor"),
    ]

    operations = [
        migrations.RunPython(templates_install, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='connectionsetup',
            name='alert_lag_minutes',
            field=models.PositiveIntegerField(blank=True, default=60, help_text='The age of the oldest change not yet synchronised past which an alert is sent. Empty: never.', null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(52560000)], verbose_name='Alert When a Mapping Is Behind By (minutes)'),
        ),
        migrations.AlterField(
            model_name='connectionsetup',
            name='alert_period_minutes',
            field=models.PositiveIntegerField(default=60, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(52560000)], verbose_name='At Most One Alert per Mapping and Kind Every (minutes)'),
        ),
        migrations.AlterField(
            model_name='connectionsetup',
            name='alert_worker_minutes',
            field=models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(52560000)], verbose_name='Alert When No Worker Is Seen For (minutes)'),
        ),
        migrations.AlterField(
            model_name='connectionsetup',
            name='log_retention_days',
            field=models.PositiveIntegerField(default=30, help_text='The daily clean-up deletes synchronisation jobs, their errors and full synchronisation runs older than this; failed jobs that skipped or failed records still point at are kept.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(36500)], verbose_name='Delete Synch. Log Entries Older Than (days)'),
        ),
    ]
