"""``manage.py seed_demo``: the demo agencies, members and cases; ``--cases N`` adds N
synthetic cases for benchmarks. The content and the writing live in ``casebook.demo``."""

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from casebook import demo
from casebook.demo.agencies import NEWCOMER, NEWCOMER_ADDED_BY, ensure_newcomer


class Command(BaseCommand):
    help = (
        "Create the demo agencies, members and about forty cases (idempotent), then optionally "
        "N synthetic cases for benchmarks (--cases N --seed S)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases",
            type=int,
            default=0,
            help="Also generate this many synthetic cases (bulk-written; each run adds more).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed of the synthetic cases."
        )
        parser.add_argument(
            "--agencies",
            type=int,
            default=0,
            help="Before the synthetic cases, create this many synthetic agencies (if missing) "
            "spread over the 23 member states.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Synthetic cases per transaction."
        )
        parser.add_argument(
            "--base-url",
            default=settings.CASEBOOK_BASE_URL,
            help="Scheme and host of the newcomer's printed link (default: CASEBOOK_BASE_URL).",
        )
        parser.add_argument(
            "--no-demo-password",
            action="store_true",
            help="Give the demo users an unusable password (required when DEBUG is off).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, extra_agencies = options["cases"], options["agencies"]
        if count < 0 or extra_agencies < 0 or options["batch_size"] < 1:
            raise CommandError("--cases and --agencies cannot be negative, --batch-size is >= 1.")
        if options["no_demo_password"]:
            password = None
        elif settings.DEBUG:
            password = settings.DEMO_PASSWORD
        else:
            raise CommandError(
                "the demo password is only for development; run with CASEBOOK_DEBUG=1, or pass "
                "--no-demo-password to create the demo users without a usable password."
            )
        progress = options["verbosity"] > 0
        if password:
            try:
                password_validation.validate_password(password)
            except ValidationError as error:
                message = " ".join(error.messages)
                raise CommandError(f"the demo password is refused: {message}") from error
        try:
            result = demo.seed_demo(password=password, progress=progress)
        except demo.DemoConflict as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Demo: {result.agencies_created} agencies, {result.members_created} members and "
            f"{result.cases_created} cases created"
            + ("." if result.cases_created else " (the demo cases were already there).")
        )
        if count or extra_agencies:
            started = time.monotonic()
            synthetic = demo.seed_synthetic(
                count=count,
                seed=options["seed"],
                extra_agencies=extra_agencies,
                batch_size=options["batch_size"],
                progress=progress,
            )
            self.stdout.write(
                f"Synthetic: {synthetic.agencies_created} agencies and "
                f"{synthetic.cases_created} cases created in {time.monotonic() - started:.1f} s."
            )
        if password:
            self._print_logins(result, password)
        with transaction.atomic():
            link = ensure_newcomer(base_url=options["base_url"])
        if link:
            self.stdout.write("")
            self.stdout.write(
                f"The newcomer {NEWCOMER.username} ({NEWCOMER.roles[0]}, added by "
                f"{NEWCOMER_ADDED_BY}) chooses a password with this one-time link:"
            )
            self.stdout.write(f"  {link}")

    def _print_logins(self, result: demo.DemoResult, password: str) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (development only):")
        width = max(len(username) for username, _agency, _roles in result.logins)
        for username, agency, roles in result.logins:
            self.stdout.write(f"  {username:<{width}}  {agency:<10} {roles}")
        self.stdout.write(f"  password for all of them: {password}")
