# Fulfilment modes (issue 5): dine-in tables and their tabs, scheduled orders.

import django.db.models.deletion
import linli.core.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_lifecycle'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='scheduled_for',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='order',
            name='fulfilment',
            field=models.CharField(choices=[('delivery', 'Delivery'), ('pickup', 'Pickup'), ('dine_in', 'Dine In')], max_length=16),
        ),
        migrations.CreateModel(
            name='Table',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', linli.core.fields.PublicIdField(editable=False, max_length=40, prefix='tbl', unique=True)),
                ('label', models.CharField(max_length=20)),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tables', to='merchants.store')),
            ],
            options={
                'db_table': 'orders_table',
                'ordering': ['label', 'id'],
            },
        ),
        migrations.AddField(
            model_name='order',
            name='table',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.table'),
        ),
        migrations.CreateModel(
            name='TableTab',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', linli.core.fields.PublicIdField(editable=False, max_length=40, prefix='tab', unique=True)),
                ('status', models.CharField(choices=[('open', 'Open'), ('paying', 'Paying'), ('paid', 'Paid'), ('closed', 'Closed')], default='open', max_length=8)),
                ('payment_id', models.CharField(blank=True, db_index=True, max_length=40)),
                ('amount_fen', models.PositiveIntegerField(default=0)),
                ('opened_at', models.DateTimeField(auto_now_add=True)),
                ('closes_at', models.DateTimeField()),
                ('paid_at', models.DateTimeField(blank=True, null=True)),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='table_tabs', to='merchants.store')),
                ('table', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tabs', to='orders.table')),
            ],
            options={
                'db_table': 'orders_table_tab',
            },
        ),
        migrations.AddField(
            model_name='order',
            name='tab',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.tabletab'),
        ),
        migrations.AddConstraint(
            model_name='table',
            constraint=models.UniqueConstraint(fields=('store', 'label'), name='table_label_per_store'),
        ),
        migrations.AddConstraint(
            model_name='tabletab',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('table',), name='one_open_tab_per_table'),
        ),
    ]
