from django.db import migrations, models


class Migration(migrations.Migration):
    # Entries written before this migration have no ``attempted`` value (their detail may
    # start with it, e.g. "share: ..."); they are not back-filled: the log is append-only.

    dependencies = [
        ("casebook", "0003_access_log_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="attempted",
            field=models.CharField(blank=True, max_length=20),
        ),
    ]
