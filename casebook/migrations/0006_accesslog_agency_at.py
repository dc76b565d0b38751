"""The supervisors' access-log page reads "entries by our members" newest first: an index on
``(agency, at DESC, id DESC)`` gives them in page order, and replaces the single-column index
of ``agency`` (it serves every lookup that one served, and each index costs every INSERT).

On PostgreSQL the new index is built, and the old one dropped, CONCURRENTLY: every request
writes a log row, and a plain CREATE or DROP INDEX would hold those INSERTs. The new index is
built before the old one goes, so that no read is left without one.
"""

import django.db.models.deletion
from django.db import migrations, models

from casebook.migration_operations import (
    AddIndexConcurrentlyOnPostgres,
    DropColumnIndexConcurrentlyOnPostgres,
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
