"""``manage.py create_administrator USERNAME --email E``: the first (or another) installation
administrator, without a password; prints the one-time link with which they choose it."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from casebook import accounts
from casebook.models import PasswordLink


class Command(BaseCommand):
    help = (
        "Create an installation administrator (superuser) without a password and print the "
        "one-time link with which they choose it. For an administrator who has not chosen "
        "one yet, prints a new link (the earlier one dies)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True, help="The administrator's e-mail.")
        parser.add_argument(
            "--base-url",
            default=settings.CASEBOOK_BASE_URL,
            help="Scheme and host the link starts with (default: CASEBOOK_BASE_URL).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username, email = options["username"], options["email"]
        user_model = get_user_model()
        user = user_model.objects.filter(username__iexact=username).first()
        if user is None:
            user = user_model(username=username, email=email, is_staff=True, is_superuser=True)
            user.set_unusable_password()
            try:
                user.full_clean()
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            user.save()
            self.stdout.write(f"Administrator {username} created.")
        elif not user.is_superuser or user.has_usable_password():
            raise CommandError(
                f"the user {username!r} exists and is not an administrator without a password; "
                "nothing was changed."
            )
        token = accounts.password_link_issue(
            user=user, purpose=PasswordLink.Purpose.ENROL, actor=None
        )
        url = accounts.password_link_url(token, base_url=options["base_url"])
        hours = settings.CASEBOOK_ENROLMENT_HOURS
        self.stdout.write(f"One-time link to choose the password (valid {hours} hours):")
        self.stdout.write(f"  {url}")
