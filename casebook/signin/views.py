"""Sign-in pages: password, second step, authenticator set-up, security page, lockout page;
and a supervisor's unlock and two-factor reset of a member of their own agency."""

from base64 import b32encode
from typing import Any, Protocol
from uuid import UUID

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from casebook import selectors as casebook_selectors
from casebook.auth import AuthenticatedHttpRequest
from casebook.models import AccessLog, Member
from casebook.signin import selectors, services
from casebook.signin.forms import AuthenticatorCodeForm, SecondFactorForm
from casebook.signin.lockout import ADDRESS, STEP_KEY
from casebook.signin.middleware import (
    PENDING_KEY,
    SETUP,
    VERIFY,
    is_verified,
    two_factor_required,
    with_next,
)


class SignInView(LoginView):
    """Username and password (Django's form; django-axes refuses locked accounts and
    addresses before the password is checked), then the second step where one is owed."""

    template_name = "casebook/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)  # signs in; the session is new
        user = form.get_user()
        step = VERIFY if selectors.has_authenticator(user) else None
        if step is None and two_factor_required():
            step = SETUP
        if step is None:
            services.sign_in_record(
                request=self.request, action=AccessLog.Action.SIGN_IN, user=user, detail="password"
            )
            return response
        self.request.session[PENDING_KEY] = step
        return redirect(with_next(reverse(f"signin:two_factor_{step}"), self.get_success_url()))


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _record(request: AuthenticatedHttpRequest, action: str, detail: str) -> None:
    services.sign_in_record(request=request, action=action, user=request.user, detail=detail)


def _second_step_passed(request: AuthenticatedHttpRequest, device: Device, detail: str) -> None:
    """Mark the session verified by ``device`` (a new session key) and log it: as a sign-in
    when the step was owed (always, when two-factor is required), else as a change to the
    account (a demo member setting up an authenticator from the security page)."""
    django_otp.login(request, device)
    request.session.cycle_key()
    was_owed = request.session.pop(PENDING_KEY, None) is not None
    was_signing_in = was_owed or two_factor_required()
    action = AccessLog.Action.SIGN_IN if was_signing_in else AccessLog.Action.ACCOUNT
    _record(request, action, detail)


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator, or a recovery code (used up)."""
    user = request.user
    if is_verified(user):
        request.session.pop(PENDING_KEY, None)
        return redirect(_next_url(request))
    if not selectors.has_authenticator(user):
        return _without_authenticator(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.get_username(), STEP_KEY: "two-factor code"}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return _lock(request, credentials)
        try:
            device = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
            return _verify_page(request, form)
        if device is not None:
            kind = "recovery code" if device.persistent_id.startswith("otp_static") else "code"
            _second_step_passed(request, device, f"password + two-factor {kind}")
            return redirect(_next_url(request))
        user_login_failed.send(__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return _lock(request, credentials)
        form.add_error("code", _("That code is not right. Enter the newest code of your app."))
    return _verify_page(request, form)


def _verify_page(request: HttpRequest, form: SecondFactorForm) -> HttpResponse:
    context = {"form": form, "next": _next_url(request)}
    return render(request, "casebook/signin/verify.html", context)


def _without_authenticator(request: HttpRequest) -> HttpResponse:
    if two_factor_required() or request.session.get(PENDING_KEY) == SETUP:
        request.session[PENDING_KEY] = SETUP
        return redirect(with_next(reverse("signin:two_factor_setup"), _next_url(request)))
    request.session.pop(PENDING_KEY, None)
    return redirect(_next_url(request))


def _lock(request: HttpRequest, credentials: dict[str, str]) -> HttpResponse:
    """Sign out the half-signed-in session; AxesMiddleware answers with the lockout page."""
    logout(request)
    request.axes_locked_out = True  # type: ignore[attr-defined]  # what AxesMiddleware reads
    request.axes_credentials = credentials  # type: ignore[attr-defined]  # what AxesMiddleware reads
    return redirect("login")


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR code (or type the key), confirm with a code,
    then see the recovery codes, once."""
    try:
        device = services.totp_device_pending(user=request.user)
    except ValidationError:
        return redirect(with_next(reverse("signin:two_factor_verify"), _next_url(request)))
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = form.cleaned_data["code"].replace(" ", "").strip()
            codes = services.totp_device_confirm(user=request.user, device=device, code=code)
        except ValidationError as error:
            form.add_error("code", error)
        else:
            _second_step_passed(request, device, "two-factor authenticator set up")
            return _show_codes(request, codes, _next_url(request))
    context = {"form": form, "next": _next_url(request), **_authenticator_setup(device)}
    return render(request, "casebook/signin/setup.html", context)


def _authenticator_setup(device: TOTPDevice) -> dict[str, str]:
    """The QR code (an SVG data URI: the CSP allows ``data:`` images, no script) and key."""
    key = b32encode(device.bin_key).decode()
    return {
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
        "secret": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
        "otpauth_url": device.config_url,
    }


def _show_codes(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    context = {"codes": [f"{code[:4]}-{code[4:]}" for code in codes], "next": next_url}
    return render(request, "casebook/signin/recovery_codes.html", context)


@login_required
@require_GET
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The member's own sign-in security: two-factor status, new recovery codes."""
    context = {
        "status": selectors.two_factor_status(request.user),
        "form": AuthenticatorCodeForm(),
        "required": two_factor_required(),
    }
    return render(request, "casebook/signin/security.html", context)


@sensitive_post_parameters("code")
@login_required
@require_POST
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New recovery codes (the old ones die), for a current code from the authenticator."""
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["code"]
        try:
            codes = services.recovery_codes_regenerate(user=request.user, code=code)
        except ValidationError as error:
            form.add_error("code", error)
        else:
            _record(request, AccessLog.Action.ACCOUNT, "new recovery codes")
            return _show_codes(request, codes, reverse("signin:security"))
    context = {
        "status": selectors.two_factor_status(request.user),
        "form": form,
        "required": two_factor_required(),
    }
    return render(request, "casebook/signin/security.html", context)


# --- a supervisor's actions ----------------------------------------------------------------


@login_required
@require_POST
def member_unlock(request: AuthenticatedHttpRequest, member: UUID) -> HttpResponse:
    """End the lockout of a member of the supervisor's own agency (404 for others')."""
    done = _("%(user)s can try to sign in again.")
    return _member_action(request, member, services.member_unlock, done)


@login_required
@require_POST
def member_two_factor_reset(request: AuthenticatedHttpRequest, member: UUID) -> HttpResponse:
    """Remove a member's authenticator and recovery codes (a lost phone): they set up a new
    one at their next sign-in. Own agency only (404 for others')."""
    done = _("%(user)s will set up two-factor sign-in again at their next sign-in.")
    return _member_action(request, member, services.member_two_factor_reset, done)


class _MemberService(Protocol):
    """``services.member_unlock`` and ``services.member_two_factor_reset``."""

    def __call__(self, *, actor: User, member: Member, request: HttpRequest) -> object: ...


def _member_action(
    request: AuthenticatedHttpRequest, member: UUID, service: _MemberService, done: str
) -> HttpResponse:
    target: Member = casebook_selectors.get_member_for_supervisor(request.user, member)
    try:
        service(actor=request.user, member=target, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"user": target.user.get_username()})
    return redirect("member_edit", member=target.uuid)


# --- hooks called by django-axes and the templates -----------------------------------------


def locked_out(
    request: HttpRequest,
    original_response: HttpResponseBase | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The lockout page (``AXES_LOCKOUT_CALLABLE``), in the user's language, status 429."""
    username = (credentials or {}).get("username") or ""
    by_address = getattr(request, "casebook_locked_by", None) == ADDRESS
    if by_address:
        until = selectors.address_locked_until(getattr(request, "axes_ip_address", None))
    else:
        until = selectors.account_locked_until(username)
    context = {
        "until": until or timezone.now() + settings.AXES_COOLOFF_TIME,
        "by_address": by_address,
    }
    return render(request, "casebook/signin/locked.html", context, status=429)


def two_factor_banner(request: HttpRequest) -> dict[str, bool]:
    """Context processor: whether the demo banner says two-factor sign-in is off (only
    ever under DEBUG: settings require it otherwise)."""
    return {"two_factor_off": settings.DEBUG and not two_factor_required()}
