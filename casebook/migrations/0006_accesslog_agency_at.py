"""The supervisors' access-log page reads "entries by our members" newest first: an index on
``(agency, at DESC, id DESC)`` gives them in page order, and replaces the single-column index
of ``agency`` (it serves every lookup that one served, and each index costs every INSERT).

On PostgreSQL the new index is built, and the old one dropped, CONCURRENTLY: every request
writes a log row, and a plain CREATE or DROP INDEX would hold those INSERTs. The new index is
built before the old one goes, so that no read is left without one.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """``AddIndex``, built with CREATE INDEX CONCURRENTLY on PostgreSQL (the migration is not
    atomic); as usual elsewhere."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)


class DropColumnIndexConcurrentlyOnPostgres(migrations.AlterField):
    """``AlterField`` to ``db_index=False``; on PostgreSQL its only database change, dropping
    the column's index, is made with DROP INDEX CONCURRENTLY."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, model):
            return
        column = model._meta.get_field(self.name).column
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        for name, info in constraints.items():
            if info["index"] and not info["unique"] and info["columns"] == [column]:
                index = models.Index(fields=[self.name], name=name)
                schema_editor.remove_index(model, index, concurrently=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        # ``AlterField`` goes back by altering forwards between the swapped states; this
        # class's forwards only drops, so go back as ``AlterField`` does (the index returns).
        migrations.AlterField.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("casebook", "0005_accesslog_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="accesslog",
            index=models.Index(
                fields=["agency", "-at", "-id"], name="casebook_accesslog_agency_at"
            ),
        ),
        DropColumnIndexConcurrentlyOnPostgres(
            model_name="accesslog",
            name="agency",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="casebook.agency",
            ),
        ),
    ]
