"""A Sales record's new id is a time-ordered UUID (p2c.utils.uuid7) rather than a random one. The default is
Python's alone: the tables are left as they are (on SQLite an AlterField would copy each table whole).
"""

import p2c.utils
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0005_match_fields_case_insensitive_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='account',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='contact',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='invoice',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='invoicedetail',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='opportunity',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='pricelevel',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='product',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='productpricelevel',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='quote',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='quotedetail',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='salesorder',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='salesorderdetail',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='systemuser',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='transactioncurrency',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='unit',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='unitgroup',
                name='id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, primary_key=True, serialize=False),
            ),
        ]),
    ]
