from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # The core asks its questions about cases through this (``casebook.caselookups``).
        from casebook import caselookups  # local import: models load after apps
        from cases import outbox, tasks  # local import: models load after apps
        from cases.selectors.lookups import case_lookups  # local import: models load after apps

        caselookups.provide(case_lookups())
        # Change events are queued to Celery after commit (``cases.outbox``).
        outbox.set_dispatcher(
            tasks.events_deliver_task.delay, batch=tasks.events_deliver_batch_task.delay
        )
