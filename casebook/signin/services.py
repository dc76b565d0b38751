"""Writes of signing in: the access log of sign-ins, two-factor devices, unlock and reset.

Two-factor devices are django-otp's: one ``TOTPDevice`` (an authenticator app) and one
``StaticDevice`` holding the member's one-time recovery codes.
"""

import datetime
import math
from uuid import UUID

from axes.utils import reset as axes_reset
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casebook import notifications
from casebook.access import client_address
from casebook.models import AccessLog, Member, Notification

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
# A username that matches no account is logged this long: enough to recognise a probe,
# short of a password typed into the wrong field.
UNKNOWN_USERNAME_CHARS = 40
MAX_DETAIL = AccessLog._meta.get_field("detail").max_length or 255
MAX_PATH = AccessLog._meta.get_field("path").max_length or 500


def sign_in_record(
    *,
    request: HttpRequest,
    action: str,
    user: User | None = None,
    username: str = "",
    object_uuid: UUID | None = None,
    detail: str = "",
) -> AccessLog:
    """Write one access-log row about signing in or an account: ``action`` is
    ``SIGN_IN``, ``SIGN_IN_FAILED``, ``LOCKED_OUT`` (``user`` is the account, or ``None`` and
    ``username`` what was typed, truncated) or ``ACCOUNT`` (``user`` is the supervisor who
    acted, ``object_uuid`` the member acted on). Never give it a password. Raises whatever
    the INSERT raises, like every write of the log."""
    member: Member | None = getattr(user, "member", None) if user is not None else None
    name = user.get_username() if user is not None else username[:UNKNOWN_USERNAME_CHARS]
    return AccessLog.objects.create(
        user=user,
        username=name,
        agency_id=member.agency_id if member is not None else None,
        action=action,
        object_type="account",
        object_uuid=object_uuid if object_uuid is not None else getattr(member, "uuid", None),
        path=request.get_full_path()[:MAX_PATH],
        remote_addr=client_address(request),
        detail=detail[:MAX_DETAIL],
    )


def account_for_username(username: str) -> User | None:
    """The user signing in as ``username`` (with their membership), or ``None``."""
    if not username:
        return None
    return User.objects.filter(username=username).select_related("member").first()


def lockout_notify(*, user: User, until: datetime.datetime) -> Notification | None:
    """Tell the supervisors of ``user``'s agency that the account is locked until ``until``
    (nobody, for users without an agency: returns ``None``)."""
    member: Member | None = getattr(user, "member", None)
    if member is None:
        return None
    message = _(
        "The account %(user)s was locked after too many failed sign-in attempts, until "
        "%(until)s. If it was not them, talk to them; you can unlock it on their page."
    ) % {
        "user": user.get_username(),
        "until": formats.date_format(timezone.localtime(until), "DATETIME_FORMAT"),
    }
    # ``notify`` cuts the message to what the column holds.
    return notifications.notify(
        agency_id=member.agency_id,
        kind=Notification.Kind.ACCOUNT_LOCKED,
        message=message,
        supervisors_only=True,
    )


# --- two-factor devices --------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up for ``user``: unconfirmed until a code from it is
    entered. Refused (``ValidationError``) if the user already has a confirmed one: a new
    authenticator needs a supervisor's reset first, so that a stolen password alone cannot
    add one."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Two-factor sign-in is already set up for this account."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the pending ``device`` with a ``code`` from it and issue new recovery codes,
    returned to be shown once. Raises ``ValidationError`` for a wrong code."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError(_("Start the set-up again."))
    if not device.verify_token(code):
        raise ValidationError(
            _("That code is not right. Check the time on your phone and enter the newest code.")
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _recovery_codes_replace(user)


def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device of ``user`` that accepts ``code``: the authenticator for six digits, else
    the recovery codes (a recovery code is used up); ``None`` if none does. Raises
    ``ValidationError`` without checking the code while the device makes the user wait after
    recent wrong codes (django-otp's back-off: 1, 2, 4... seconds)."""
    code = "".join(code.split()).replace("-", "").lower()
    model: type[Device] = TOTPDevice if code.isdigit() else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        return None
    allowed, wait = device.verify_is_allowed()
    if not allowed and wait and "locked_until" in wait:
        seconds = max(1, math.ceil((wait["locked_until"] - timezone.now()).total_seconds()))
        message = ngettext(
            "Wait %(seconds)d second before you try another code.",
            "Wait %(seconds)d seconds before you try another code.",
            seconds,
        )
        raise ValidationError(message % {"seconds": seconds})
    return verify_token(user, device.persistent_id, code)


@transaction.atomic
def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """New recovery codes for ``user``, the old ones dead; needs a current ``code`` from the
    authenticator (``ValidationError`` otherwise)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    code = "".join(code.split())
    if device is None or verify_token(user, device.persistent_id, code) is None:
        raise ValidationError(_("That code is not right. Enter the newest code of your app."))
    return _recovery_codes_replace(user)


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- a supervisor's actions on a member ----------------------------------------------------


def _refuse_self(actor: User, member: Member) -> None:
    if member.user_id == actor.pk:
        raise ValidationError(_("Ask another supervisor to do this for your own account."))


@transaction.atomic
def member_two_factor_reset(*, actor: User, member: Member, request: HttpRequest) -> None:
    """Remove ``member``'s authenticator and recovery codes: they set up a new one at their
    next sign-in (and their open sessions are sent to the set-up). Logged under ``actor``'s
    name. Callers fetch ``member`` through ``get_member_for_supervisor``."""
    _refuse_self(actor, member)
    TOTPDevice.objects.filter(user_id=member.user_id).delete()
    StaticDevice.objects.filter(user_id=member.user_id).delete()
    sign_in_record(
        request=request,
        action=AccessLog.Action.ACCOUNT,
        user=actor,
        object_uuid=member.uuid,
        detail=f"two-factor reset for {member.user.get_username()}",
    )


@transaction.atomic
def member_unlock(*, actor: User, member: Member, request: HttpRequest) -> int:
    """End the lockout of ``member``'s account (their failed attempts are forgotten; a
    locked source address stays locked). Logged under ``actor``'s name. Returns how many
    attempt records were removed."""
    _refuse_self(actor, member)
    removed: int = axes_reset(username=member.user.get_username())
    sign_in_record(
        request=request,
        action=AccessLog.Action.ACCOUNT,
        user=actor,
        object_uuid=member.uuid,
        detail=f"unlocked {member.user.get_username()}",
    )
    return removed
