"""An ERP record's new SystemId is a time-ordered UUID (p2c.utils.uuid7) rather than a random one. The default is
Python's alone: the tables are left as they are (on SQLite an AlterField would copy each table whole).
"""

import p2c.utils
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('erp', '0006_match_fields_case_insensitive_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='bankaccount',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='contact',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='currency',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='customer',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='customerpricegroup',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='customertemplate',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='item',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='opportunity',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='paymentterms',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='purchaseheader',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='resource',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salesheader',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salesinvoiceheader',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salesinvoiceline',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salesline',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salespersonpurchaser',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='salesprice',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='shipmentmethod',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='shippingagent',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='unitofmeasure',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
            migrations.AlterField(
                model_name='vendor',
                name='system_id',
                field=models.UUIDField(default=p2c.utils.uuid7, editable=False, unique=True, verbose_name='SystemId'),
            ),
        ]),
    ]
