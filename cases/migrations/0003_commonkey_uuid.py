"""A public id for common keys, so that URLs never carry their sequential primary key.

Added nullable, filled row by row (a callable default is evaluated once for all existing rows,
which would break the unique constraint), then made unique and required.
"""

import uuid
from typing import Any

from django.db import migrations, models


def fill_uuids(apps: Any, schema_editor: Any) -> None:
    CommonKey = apps.get_model("cases", "CommonKey")
    for common_key in CommonKey.objects.filter(uuid__isnull=True).only("pk"):
        common_key.uuid = uuid.uuid4()
        common_key.save(update_fields=["uuid"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_sharing_protection_hits"),
    ]

    operations = [
        migrations.AddField(
            model_name="commonkey",
            name="uuid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="commonkey",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
