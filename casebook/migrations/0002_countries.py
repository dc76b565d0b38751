"""The 23 member states of the Regional Conference on Migration (RCM, "Puebla Process") and
the South American Conference on Migration (SACM), with their ISO 3166-1 alpha-2 codes."""

from django.db import migrations

COUNTRIES = [
    # RCM
    ("BZ", "Belize", "RCM"),
    ("CA", "Canada", "RCM"),
    ("CR", "Costa Rica", "RCM"),
    ("DO", "Dominican Republic", "RCM"),
    ("SV", "El Salvador", "RCM"),
    ("GT", "Guatemala", "RCM"),
    ("HN", "Honduras", "RCM"),
    ("MX", "Mexico", "RCM"),
    ("NI", "Nicaragua", "RCM"),
    ("PA", "Panama", "RCM"),
    ("US", "United States", "RCM"),
    # SACM
    ("AR", "Argentina", "SACM"),
    ("BO", "Bolivia", "SACM"),
    ("BR", "Brazil", "SACM"),
    ("CL", "Chile", "SACM"),
    ("CO", "Colombia", "SACM"),
    ("EC", "Ecuador", "SACM"),
    ("GY", "Guyana", "SACM"),
    ("PY", "Paraguay", "SACM"),
    ("PE", "Peru", "SACM"),
    ("SR", "Suriname", "SACM"),
    ("UY", "Uruguay", "SACM"),
    ("VE", "Venezuela", "SACM"),
]


def load(apps, schema_editor):
    Country = apps.get_model("casebook", "Country")
    for code, name, conference in COUNTRIES:
        Country.objects.update_or_create(
            code=code, defaults={"name": name, "conference": conference}
        )


def unload(apps, schema_editor):
    apps.get_model("casebook", "Country").objects.filter(
        code__in=[code for code, _name, _conference in COUNTRIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("casebook", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
