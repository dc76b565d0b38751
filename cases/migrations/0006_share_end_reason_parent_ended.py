"""A share can end because the share it came from ended: a re-share ends with the share of the
agency that granted it (``cases.sharing``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_performance_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseshare",
            name="end_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("revoked", "Revoked"),
                    ("expired", "Expired"),
                    ("replaced", "Replaced by a new share"),
                    ("parent_ended", "The share it came from ended"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="historicalcaseshare",
            name="end_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("revoked", "Revoked"),
                    ("expired", "Expired"),
                    ("replaced", "Replaced by a new share"),
                    ("parent_ended", "The share it came from ended"),
                ],
                max_length=20,
            ),
        ),
    ]
