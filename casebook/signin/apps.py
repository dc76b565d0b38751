from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    """No models: an app so that its signal receivers are connected at start-up."""

    name = "casebook.signin"
    label = "casebook_signin"
    verbose_name = _("Casebook: signing in")

    def ready(self) -> None:
        from casebook.signin import signals  # noqa: F401  # local import: connects receivers once apps are ready

        _unregister_device_admins()


def _unregister_device_admins() -> None:
    """django-otp registers its devices in the admin, where an administrator could read a
    member's authenticator key. Casebook's administrators do not manage second factors:
    a supervisor resets them, logged (``casebook.signin.views.member_two_factor_reset``).
    The admin has discovered its modules by now (it is readied first)."""
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
