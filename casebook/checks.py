"""System checks for a production deployment."""

import os
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[Warning | Error]:
    problems: list[Warning | Error] = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "SQLite is the embedded default; production runs on PostgreSQL.",
                hint="Set DATABASE_URL=postgres://...",
                id="casebook.W001",
            )
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        problems.append(
            Warning(
                "Celery tasks run eagerly in the web process.",
                hint="Set CELERY_BROKER_URL to the RabbitMQ broker.",
                id="casebook.W002",
            )
        )
    if not settings.DEBUG and not os.environ.get("CASEBOOK_SECRET_KEY"):
        problems.append(
            Error(
                "CASEBOOK_SECRET_KEY is not set.",
                hint="Generate one per installation and keep it out of the repository.",
                id="casebook.E001",
            )
        )
    return problems
