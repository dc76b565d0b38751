"""Indexes for the supervisors' access-log page, which reads newest first (``-at, -id``).

- ``(at DESC, id DESC)`` replaces ``(at DESC)``: the page orders by both, and the old index
  left an incremental sort on top of every read.
- ``(action, at DESC, id DESC) WHERE action <> 'view'``: filtering by a rare action (refusals,
  exports, shares) walked the newest-first index through every view; views, most of the log,
  are left out so that reads do not pay for this index on every INSERT.
- The single-column indexes of ``case`` and ``user`` go: ``(case, at DESC)`` and
  ``(user, at DESC)`` serve every lookup they served, and each index costs every INSERT.

On PostgreSQL the indexes are built CONCURRENTLY: every request writes a log row, and a plain
CREATE INDEX would hold those INSERTs, so every page, for as long as the build takes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from casebook.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("casebook", "0004_accesslog_attempted"),
        ("cases", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="accesslog",
            index=models.Index(fields=["-at", "-id"], name="casebook_accesslog_at_id"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="accesslog",
            index=models.Index(
                condition=models.Q(("action", "view"), _negated=True),
                fields=["action", "-at", "-id"],
                name="casebook_accesslog_action_at",
            ),
        ),
        migrations.RemoveIndex(
            model_name="accesslog",
            name="casebook_ac_at_201c79_idx",
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="case",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="user",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
