"""Idle sessions end; a signed-in member passes the second step before anything else.

Both read only the session, which the request loads anyway to know its user: no query of
their own on an ordinary request. The last-seen time is written to the session at sign-in
and then at most once a minute (``SEEN_REFRESH_SECONDS``), so that a page does not save the
session on every request; a session therefore ends up to a minute before the idle limit.
"""

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

SEEN_KEY = "casebook_seen"
SEEN_REFRESH_SECONDS = 60
# The second step a signed-in session still owes: "verify" (a code) or "setup" (a device).
PENDING_KEY = "casebook_2fa_pending"
VERIFY = "verify"
SETUP = "setup"


def mark_seen(request: HttpRequest) -> None:
    request.session[SEEN_KEY] = int(time.time())


def two_factor_required() -> bool:
    """Whether every member must use a second factor (settings make it so with DEBUG off)."""
    return bool(settings.CASEBOOK_REQUIRE_2FA)


def is_verified(user: User) -> bool:
    """Whether this session's ``user`` passed the second step (django-otp's
    ``OTPMiddleware`` gives ``request.user`` an ``is_verified`` method)."""
    return bool(user.is_verified())  # type: ignore[attr-defined]  # added by OTPMiddleware


def with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class IdleSessionMiddleware:
    """Signs out a session that made no request for ``CASEBOOK_SESSION_IDLE_SECONDS`` and
    sends the request to the sign-in page with a message. Place after MessageMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if isinstance(seen, int) and now - seen > settings.CASEBOOK_SESSION_IDLE_SECONDS:
                logout(request)
                minutes = max(1, settings.CASEBOOK_SESSION_IDLE_SECONDS // 60)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": minutes},
                )
                next_url = request.get_full_path() if request.method == "GET" else ""
                return HttpResponseRedirect(with_next(reverse(settings.LOGIN_URL), next_url))
            if not isinstance(seen, int) or now - seen >= SEEN_REFRESH_SECONDS:
                request.session[SEEN_KEY] = now
        return self.get_response(request)


@cache
def _step_paths() -> frozenset[str]:
    names = ["logout", "signin:two_factor_verify", "signin:two_factor_setup"]
    return frozenset(reverse(name) for name in names)


class TwoFactorMiddleware:
    """Sends a signed-in session that has not passed the second step to it, from every page
    but the second step's own and sign-out. The step is owed when the sign-in page said so
    (the member has an authenticator, or one is required) and, when two-factor sign-in is
    required, by every session not verified by a device (django-otp's ``is_verified``).
    Place after OTPMiddleware and MessageMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = self._owed(request)
        if step is not None and request.path_info not in _step_paths():
            next_url = request.get_full_path() if request.method == "GET" else ""
            url = reverse(f"signin:two_factor_{step}")
            return HttpResponseRedirect(with_next(url, next_url))
        return self.get_response(request)

    @staticmethod
    def _owed(request: HttpRequest) -> str | None:
        if SESSION_KEY not in request.session:
            return None
        pending = request.session.get(PENDING_KEY)
        if pending in (VERIFY, SETUP):
            return str(pending)
        if not two_factor_required():
            return None
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        # The verify page sends a member without an authenticator on to the set-up.
        return VERIFY
