"""Menu categories get their own opaque public id (they were `mct_<integer key>`)."""

from django.db import migrations

import linli.core.fields
from linli.core.ids import new_public_id


def fill(apps, schema_editor):
    MenuCategory = apps.get_model("merchants", "MenuCategory")
    batch = []
    for category in MenuCategory.objects.filter(public_id__isnull=True).only("pk").iterator(chunk_size=2000):
        category.public_id = new_public_id("mct")
        batch.append(category)
        if len(batch) == 2000:
            MenuCategory.objects.bulk_update(batch, ["public_id"])
            batch = []
    MenuCategory.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    dependencies = [("merchants", "0003_member_roles_manager_cashier")]

    operations = [
        migrations.AddField(
            model_name="menucategory", name="public_id",
            field=linli.core.fields.PublicIdField(editable=False, max_length=40, null=True, prefix="mct"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="menucategory", name="public_id",
            field=linli.core.fields.PublicIdField(editable=False, max_length=40, prefix="mct", unique=True),
        ),
    ]
