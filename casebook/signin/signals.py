"""Receivers connected when the app is ready (``SigninConfig.ready``)."""

from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from casebook.signin.middleware import mark_seen


@receiver(user_logged_in, dispatch_uid="casebook_signin_seen")
def _seen_at_sign_in(
    sender: type[User], request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    # The idle clock starts at sign-in, written with the new session rather than by its
    # first request.
    if request is not None and hasattr(request, "session"):
        mark_seen(request)
