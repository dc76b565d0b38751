"""Migration operations that build and drop indexes without blocking writes on PostgreSQL.

Every request writes an access-log row: a plain CREATE or DROP INDEX on that table would hold
those INSERTs for as long as it runs. Migrations using these operations set ``atomic = False``
(PostgreSQL refuses CONCURRENTLY inside a transaction); on other databases they do what the
Django operation they extend does.
"""

from typing import TYPE_CHECKING, cast

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState

if TYPE_CHECKING:  # importing it at run time needs psycopg, which SQLite installs lack
    from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresEditor


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """``AddIndex``, built with CREATE INDEX CONCURRENTLY on PostgreSQL (the migration is not
    atomic); as usual elsewhere."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            postgres = cast("PostgresEditor", schema_editor)  # the vendor, checked above
            postgres.add_index(model, self.index, concurrently=True)


class DropColumnIndexConcurrentlyOnPostgres(migrations.AlterField):
    """``AlterField`` to ``db_index=False``; on PostgreSQL its only database change, dropping
    the column's index, is made with DROP INDEX CONCURRENTLY."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
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
                postgres = cast("PostgresEditor", schema_editor)  # the vendor, checked above
                postgres.remove_index(model, index, concurrently=True)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        # ``AlterField`` goes back by altering forwards between the swapped states; this
        # class's forwards only drops, so go back as ``AlterField`` does (the index returns).
        migrations.AlterField.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )
