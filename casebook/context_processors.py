from functools import partial
from typing import Any

from django.http import HttpRequest

from casebook.auth import RequestUser, role_permissions
from casebook.selectors import unread_notification_count


def membership(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's membership and role permissions, for the navigation bar."""
    user: RequestUser | None = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "role_perms": frozenset(), "unread_notifications": 0}
    # Templates decide which buttons to show from the roles, never from ``perms``: Django's
    # ``perms`` says yes to superusers for everything.
    return {
        "membership": getattr(user, "member", None),
        "role_perms": role_permissions(user),
        # A callable: templates call it, so the one count query runs only on pages that
        # show it (the navigation bar), and at most once per use.
        "unread_notifications": partial(unread_notification_count, user),
    }
