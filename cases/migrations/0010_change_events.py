# Change events (issue 8, section 2): the case's version, the outbox of case events and the
# record of which subscriber has had which event (cases.outbox).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_hit_enumeration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="version",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.CreateModel(
            name="CaseEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveBigIntegerField()),
                (
                    "what",
                    models.CharField(
                        choices=[
                            ("case", "Case"),
                            ("entity", "Entity"),
                            ("relationship", "Relationship"),
                            ("movement", "Movement"),
                            ("note", "Note"),
                            ("evidence", "Evidence"),
                            ("hit", "Hit"),
                            ("share", "Share"),
                            ("grant", "Grant"),
                            ("handling_code", "Handling code"),
                            ("expiry", "Expiry"),
                        ],
                        max_length=20,
                    ),
                ),
                ("object_uuid", models.UUIDField(blank=True, null=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="cases.case",
                    ),
                ),
            ],
            options={
                "verbose_name": "case event",
                "verbose_name_plural": "case events",
            },
        ),
        migrations.CreateModel(
            name="EventDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subscriber", models.CharField(max_length=100)),
                ("delivered_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "event",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="cases.caseevent",
                    ),
                ),
            ],
            options={
                "verbose_name": "event delivery",
                "verbose_name_plural": "event deliveries",
            },
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["case", "-version"], name="case_event_case_version"),
        ),
        migrations.AddConstraint(
            model_name="eventdelivery",
            constraint=models.UniqueConstraint(
                fields=("event", "subscriber"), name="event_delivery_unique"
            ),
        ),
    ]
