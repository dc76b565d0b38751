# Agency.protected_match_policy (issue 7, section 3): whether a value of the agency's protected
# identities gives a match, told to the agency only.

from django.db import migrations, models

FIELD = dict(
    choices=[
        ("none", "No match on our protected identities"),
        (
            "owner_decides",
            "Tell us of matches on our protected identities; we decide whether to contact",
        ),
    ],
    default="none",
    help_text=(
        "Whether a value of one of your protected identities that another agency also holds "
        "is a match told to you (never to them)."
    ),
    max_length=20,
    verbose_name="matches on protected identities",
)


class Migration(migrations.Migration):
    dependencies = [
        ("casebook", "0009_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="agency",
            name="protected_match_policy",
            field=models.CharField(**FIELD),  # type: ignore[arg-type]
        ),
        migrations.AddField(
            model_name="historicalagency",
            name="protected_match_policy",
            field=models.CharField(**FIELD),  # type: ignore[arg-type]
        ),
    ]
