from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasebookConfig(AppConfig):
    name = "casebook"
    verbose_name = _("Casebook: countries, agencies and members")

    def ready(self) -> None:
        from casebook import checks  # noqa: F401  # local import: registers the system checks once apps are ready
