"""Give the victims, witnesses and informants recorded before pseudonyms existed their
pseudonym number ("Victim 3 of PA-2026-00042"), per case and role in the order they were
recorded, after any number already given; their historical records in the same role get the
same number, so that the change history names them as the pages do."""

from collections import Counter
from typing import Any

from django.db import migrations
from django.db.models import Max

PROTECTED_ROLES = ("victim", "witness", "informant")
BATCH = 2000


def number_protected_entities(apps: Any, schema_editor: Any) -> None:
    entity_model = apps.get_model("cases", "Entity")
    historical_model = apps.get_model("cases", "HistoricalEntity")
    highest: Counter[tuple[int, str]] = Counter()
    for model in (entity_model, historical_model):
        rows = (
            model.objects.filter(role__in=PROTECTED_ROLES, protected_number__isnull=False)
            .order_by()
            .values_list("case_id", "role")
            .annotate(n=Max("protected_number"))
        )
        for case_id, role, number in rows:
            highest[(case_id, role)] = max(highest[(case_id, role)], number)
    todo = list(
        entity_model.objects.filter(role__in=PROTECTED_ROLES, protected_number__isnull=True)
        .order_by("case_id", "id")
        .only("id", "case_id", "role")
    )
    given: dict[int, tuple[str, int]] = {}
    for entity in todo:
        highest[(entity.case_id, entity.role)] += 1
        entity.protected_number = highest[(entity.case_id, entity.role)]
        given[entity.pk] = (entity.role, entity.protected_number)
    entity_model.objects.bulk_update(todo, ["protected_number"], batch_size=BATCH)
    records = [
        record
        for record in historical_model.objects.filter(
            protected_number__isnull=True, role__in=PROTECTED_ROLES
        )
        .only("history_id", "id", "role")
        .iterator(chunk_size=BATCH)
        if record.id in given and given[record.id][0] == record.role
    ]
    for record in records:
        record.protected_number = given[record.id][1]
    historical_model.objects.bulk_update(records, ["protected_number"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_commonkey_uuid"),
    ]

    operations = [
        migrations.RunPython(number_protected_entities, migrations.RunPython.noop),
    ]
