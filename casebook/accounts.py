"""Accounts: one-time password links, account e-mail, demo mode, and the access-log rows of
what administrators and supervisors do to accounts and agencies.

Nobody sets another person's password: a new member, a newly seated first supervisor and a
new administrator each get a one-time link (:func:`password_link_issue`) with which they
choose their own. Only a hash of the link's token is stored. The services in
``casebook.services`` decide when a link is issued; this module issues, finds and sends them.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from casebook import access
from casebook.auth import RequestUser
from casebook.models import AccessLog, Agency, Member, PasswordLink

# --- demo mode -----------------------------------------------------------------------------


# The users ``seed_demo`` creates (``casebook.demo.agencies.MEMBERS``; a test keeps the two
# equal). Named here because the core must not import the demo, which imports the core.
DEMO_USERNAMES = frozenset(
    {
        "investigator.pa",
        "supervisor.pa",
        "analyst.pa",
        "prosecutor.pa",
        "supervisor.mp.pa",
        "investigator.cr",
        "supervisor.cr",
        "prosecutor.cr",
        "supervisor.factra.cr",
        "investigator.co",
        "supervisor.co",
        "investigator.gt",
        "supervisor.gt",
        "investigator.hn",
        "supervisor.hn",
        "prosecutor.mx",
        "supervisor.mx",
        "analyst.regional",
        "supervisor.regional",
        "investigator.mp.pa",
        "investigator.factra.cr",
        "investigator.mx",
        "investigator.regional",
    }
)


def demo_mode() -> bool:
    """Whether this installation runs the demo: only ever with DEBUG on (``make run``), and
    unless ``CASEBOOK_DEMO_MODE`` is off. In demo mode the demo users keep the demo password
    (they are not made to change it) and may skip what production requires of everyone."""
    return bool(settings.DEBUG and getattr(settings, "CASEBOOK_DEMO_MODE", True))


def is_demo_user(user: User) -> bool:
    """Whether ``user`` is one of the demo users of ``seed_demo``, in demo mode."""
    if not demo_mode():
        return False
    return user.get_username() in DEMO_USERNAMES


# --- one-time password links ---------------------------------------------------------------

VALID, EXPIRED, INVALID = "valid", "expired", "invalid"


def _hash(token: str) -> str:
    # The token carries 256 random bits: a plain digest cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


def password_link_issue(*, user: User, purpose: str, actor: User | None) -> str:
    """Issue a one-time link for ``user`` to set their own password; returns its token (to
    send or print, never to store). Earlier unused links of the user die. Expires after
    ``CASEBOOK_ENROLMENT_HOURS``. Call inside the caller's transaction."""
    PasswordLink.objects.filter(user=user, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    PasswordLink.objects.create(
        user=user,
        purpose=purpose,
        token_hash=_hash(token),
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        expires_at=now + timedelta(hours=settings.CASEBOOK_ENROLMENT_HOURS),
    )
    return token


def password_link_find(token: str) -> tuple[PasswordLink | None, str]:
    """The link of ``token`` and its state: ``VALID``, ``EXPIRED`` or ``INVALID`` (unknown,
    already used, superseded, or for a deactivated user). Only a valid link is returned."""
    link = (
        PasswordLink.objects.select_related("user")
        .filter(token_hash=_hash(token), used_at__isnull=True)
        .first()
    )
    if link is None or not link.user.is_active:
        return None, INVALID
    if link.expires_at <= timezone.now():
        return None, EXPIRED
    return link, VALID


def password_link_url(token: str, *, base_url: str) -> str:
    """The absolute address of the link: ``base_url`` (scheme and host) and its path."""
    return base_url.rstrip("/") + reverse("account_set_password", kwargs={"token": token})


def base_url(request: HttpRequest | None) -> str:
    """Scheme and host for links: the request's, else ``CASEBOOK_BASE_URL``."""
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return str(settings.CASEBOOK_BASE_URL)


# --- e-mail --------------------------------------------------------------------------------


def email_send(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Send ``templates/casebook/email/<template>-subject.txt`` / ``-body.txt`` to ``to``
    once the current transaction commits (nothing is sent for a write that rolled back).
    A mail server that fails is logged, not raised: the write stands, and a supervisor or
    an administrator can send a new link."""
    subject = render_to_string(f"casebook/email/{template}-subject.txt", context)
    body = render_to_string(f"casebook/email/{template}-body.txt", context)
    message = partial(
        send_mail,
        subject=" ".join(subject.split()),
        message=body,
        from_email=None,
        recipient_list=[to],
    )
    transaction.on_commit(message, robust=True)


# --- the access log ------------------------------------------------------------------------


def record_account_action(
    *,
    actor: User | None,
    action: str,
    what: str,
    target: str,
    agency: Agency | None = None,
    object_type: str = "user",
    object_uuid: UUID | None = None,
) -> AccessLog:
    """Write the access-log row of an administrator's or supervisor's action on an account
    (``AccessLog.Action.ACCOUNT``) or an agency (``AccessLog.Action.AGENCY``), under the
    actor's own name. ``detail`` reads "<what>: <target>" (the target's username, or the
    agency's name). The row belongs to the actor's agency, or, for an administrator (who
    has none), to ``agency`` (the target's), so that its supervisors see it on their page.

    Written inside or outside a request (a command has no path or address) and inside the
    caller's transaction; raises whatever the INSERT raises."""
    context = access.current()
    request = context.request if context is not None else None
    user = actor if getattr(actor, "is_authenticated", False) else None
    member: Member | None = getattr(user, "member", None) if user is not None else None
    row_agency = member.agency if member is not None else agency
    return AccessLog.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        agency=row_agency,
        action=action,
        object_type=object_type,
        object_uuid=object_uuid,
        path=request.get_full_path()[: access.MAX_PATH] if request is not None else "",
        remote_addr=context.remote_addr if context is not None else None,
        detail=f"{what}: {target}"[: access.MAX_DETAIL],
    )


# --- forced password change ----------------------------------------------------------------

# What a member who must change their password may still open.
ALWAYS_OPEN = frozenset(
    {
        "account_password_change",
        "account_set_password",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "login",
        "logout",
        "set_language",
    }
)


def password_change_required(user: User) -> bool:
    """Whether ``user`` must change their password before anything else (somebody else chose
    it). The demo users in demo mode keep the demo password."""
    member: Member | None = getattr(user, "member", None)
    return bool(member is not None and member.password_change_required) and not is_demo_user(user)


class PasswordChangeRequiredMiddleware:
    """Sends a member who must change their password to the change page, whatever they ask
    for. Place it after ``AuthenticationMiddleware`` and ``MessageMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponseBase],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        user: RequestUser | None = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not password_change_required(user):
            return None
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        exempt = ALWAYS_OPEN.union(getattr(settings, "CASEBOOK_PASSWORD_CHANGE_EXEMPT_URLS", ()))
        if name in exempt:
            return None
        return redirect("account_password_change")
