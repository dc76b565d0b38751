"""django-axes with Casebook's two limits, and the access log of failures and lockouts.

Axes counts failed attempts per (username, address) in its ``AccessAttempt`` table and locks
when a count reaches one limit. Casebook has two (``AXES_LOCKOUT_PARAMETERS`` lists both
counts): an account is locked after ``AXES_FAILURE_LIMIT`` failures from anywhere, so that
changing address does not help a guesser; a source address after
``CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT`` failures across all accounts, higher because an
agency's members share one address behind its proxy. A lock lasts ``AXES_COOLOFF_TIME``
from the failure that set it (attempts while locked are refused and do not extend it).

A wrong second-factor code counts as a failure too: the second step sends Django's
``user_login_failed`` with ``STEP_KEY`` in the credentials.
"""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.http import HttpRequest

from casebook.models import AccessLog
from casebook.signin import selectors, services

# In the credentials of a failure the second step reports: what was wrong.
STEP_KEY = "casebook_step"
ACCOUNT = "account"
ADDRESS = "address"


class SignInLockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]  # django-axes is untyped
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The account's failures, or the account limit once the address reached its own.
        Sets ``request.casebook_locked_by`` to what the count is about."""
        by_account: int
        by_address: int
        by_account, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit: int = get_failure_limit(request, credentials)
        if by_account < limit and by_address >= settings.CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT:
            request.casebook_locked_by = ADDRESS  # type: ignore[attr-defined]  # a note for the lockout log and page
            return limit
        request.casebook_locked_by = ACCOUNT  # type: ignore[attr-defined]  # a note for the lockout log and page
        return by_account

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """After a successful sign-in, forget the account's failures, not the address's:
        signing in to one account must not wipe an address's failures against others."""
        username = get_client_username(request, credentials)
        count: int
        count, _rows = AccessAttempt.objects.filter(username=username).delete()
        return count

    def user_login_failed(
        self,
        sender: object,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """Count the failure (axes), then log it, and a new lockout, in the access log."""
        if request is None:
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        username: str = get_client_username(request, credentials) or ""
        user = services.account_for_username(username)
        if was_locked:
            reason = "refused: locked out"
        elif credentials.get(STEP_KEY):
            reason = f"wrong {credentials[STEP_KEY]}"
        else:
            reason = "wrong username or password" if user is None else "wrong password"
        services.sign_in_record(
            request=request,
            action=AccessLog.Action.SIGN_IN_FAILED,
            user=user,
            username=username,
            detail=reason,
        )
        if not was_locked and getattr(request, "axes_locked_out", False):
            _locked_out(request, user=user, username=username)


def _locked_out(request: HttpRequest, *, user: User | None, username: str) -> None:
    by = getattr(request, "casebook_locked_by", ACCOUNT)
    if by == ADDRESS:
        until = selectors.address_locked_until(getattr(request, "axes_ip_address", None))
    else:
        until = selectors.account_locked_until(username)
    services.sign_in_record(
        request=request,
        action=AccessLog.Action.LOCKED_OUT,
        user=user,
        username=username,
        detail=f"{by} locked until {until:%Y-%m-%d %H:%M} UTC" if until else f"{by} locked",
    )
    if by == ACCOUNT and user is not None and until is not None:
        services.lockout_notify(user=user, until=until)
