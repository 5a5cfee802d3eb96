"""The shipped F&O templates are data: installed here, in every database migrated, rather than by the first GET of
their admin list (issue 67: a page that writes)."""

from django.db import migrations, router


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
    ]
