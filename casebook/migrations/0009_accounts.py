# Accounts: members set their own passwords (one-time links), role changes are recorded,
# and some notifications are for an agency's supervisors only.

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models


def require_password_change(apps: Any, schema_editor: Any) -> None:
    # Every existing password was chosen by a supervisor or an administrator: each member
    # must choose their own at their next sign-in. (A plain update: the member's history
    # does not need a row for a flag the migration sets.)
    Member = apps.get_model("casebook", "Member")
    members = Member.objects.exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
    members.exclude(user__password__exact="").update(password_change_required=True)


class Migration(migrations.Migration):
    dependencies = [
        ("casebook", "0008_signin_account_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmember",
            name="password_change_required",
            field=models.BooleanField(default=False, verbose_name="must change password"),
        ),
        migrations.AddField(
            model_name="member",
            name="password_change_required",
            field=models.BooleanField(default=False, verbose_name="must change password"),
        ),
        migrations.AddField(
            model_name="notification",
            name="supervisors_only",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="PasswordLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=[("enrol", "Enrolment"), ("reset", "New password")],
                        max_length=10,
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="RoleChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("investigator", "Investigator"),
                            ("prosecutor", "Prosecutor"),
                            ("analyst", "Analyst"),
                            ("supervisor", "Supervisor"),
                        ],
                        max_length=20,
                        verbose_name="role",
                    ),
                ),
                ("added", models.BooleanField(verbose_name="added")),
                (
                    "at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="when"),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="role_changes",
                        to="casebook.member",
                    ),
                ),
            ],
            options={
                "verbose_name": "role change",
                "verbose_name_plural": "role changes",
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("share_granted", "Case shared"),
                    ("share_revoked", "Share revoked"),
                    ("share_expired", "Share expired"),
                    ("share_source_ended", "Share ended with its source"),
                    ("share_shortened", "Share shortened"),
                    ("hit", "Cross-case match"),
                    ("hit_protected", "Match on a protected identity"),
                    ("hit_volume", "Unusual match volume"),
                    ("role_added", "Role added"),
                    ("agency_changed", "Agency details changed"),
                    ("account_locked", "Account locked"),
                    ("account_changed", "Account changed"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(require_password_change, migrations.RunPython.noop),
    ]
