"""Indexes for the pages that count or list what an agency may see (bench/pages.py).

- Grants: ``visible_case_ids`` reads the live grants of the user's agency for one permission:
  (group, permission, case) with ``expires_at`` in the index, so that PostgreSQL answers from
  the index alone (an index-only scan) instead of visiting every grant row for its expiry.
- Cases: (status, id), so that counting the visible cases by status (the dashboard) reads a
  narrow index instead of the whole table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_protected_numbers"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "content_object"],
                include=("expires_at",),
                name="grant_group_perm_case_live",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "id"], name="case_status_id"),
        ),
    ]
