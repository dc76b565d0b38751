"""Reads of signing in: a user's two-factor devices, whether and until when a lock holds."""

import datetime
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Max, Sum
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice


@dataclass(frozen=True)
class TwoFactorStatus:
    authenticator: TOTPDevice | None
    recovery_codes_left: int


def two_factor_status(user: User) -> TwoFactorStatus:
    """The user's confirmed authenticator and how many recovery codes they have left."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return TwoFactorStatus(authenticator=device, recovery_codes_left=left)


def has_authenticator(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def _cool_off() -> datetime.timedelta:
    """How long a lock lasts (``AXES_COOLOFF_TIME``, a timedelta in Casebook's settings)."""
    return datetime.timedelta(seconds=settings.AXES_COOLOFF_TIME.total_seconds())


def locked_until(*, limit: int, **match: str) -> datetime.datetime | None:
    """Until when the failed attempts matching ``match`` (``username=`` or ``ip_address=``)
    lock it, given ``limit`` failures; ``None`` if they do not (any more)."""
    since = timezone.now() - _cool_off()
    row = AccessAttempt.objects.filter(attempt_time__gte=since, **match).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    failures: int = row["failures"] or 0
    last: datetime.datetime | None = row["last"]
    if failures < limit or last is None:
        return None
    return last + _cool_off()


def account_locked_until(username: str) -> datetime.datetime | None:
    """Until when the account ``username`` is locked, or ``None``."""
    return locked_until(limit=settings.AXES_FAILURE_LIMIT, username=username)


def address_locked_until(address: str | None) -> datetime.datetime | None:
    """Until when the source ``address`` is locked, or ``None``."""
    if not address:
        return None
    return locked_until(limit=settings.CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT, ip_address=address)
