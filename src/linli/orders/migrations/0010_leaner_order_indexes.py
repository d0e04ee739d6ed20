"""Fewer indexes for every order to write at checkout (issue 5): no index of their own for
the consumer and the store (order_consumer_list and order_store_queue lead with them), the
timeouts' indexes only over the orders they look for, the dine-in links only where set, and
no LIKE (varchar_pattern_ops) index on the public id, which is only ever matched whole."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _drop_public_id_like(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Order = apps.get_model("orders", "Order")
    like = schema_editor._create_index_name(Order._meta.db_table, ["public_id"], suffix="_like")
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(like)}")


class Migration(migrations.Migration):

    dependencies = [
        ('merchants', '0008_field_encryption'),
        ('orders', '0009_promised_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='order',
            name='order_unpaid_timeout',
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_accept_timeout',
        ),
        migrations.AlterField(
            model_name='order',
            name='consumer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='order',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='merchants.store'),
        ),
        migrations.AlterField(
            model_name='order',
            name='tab',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.tabletab'),
        ),
        migrations.AlterField(
            model_name='order',
            name='table',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.table'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status', 'pending_payment')), fields=['pay_deadline'], name='order_unpaid_due'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status', 'paid')), fields=['accept_deadline'], name='order_accept_due'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('table__isnull', False)), fields=['table'], name='order_table'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('tab__isnull', False)), fields=['tab'], name='order_tab'),
        ),
        migrations.RunPython(_drop_public_id_like, migrations.RunPython.noop),
    ]
