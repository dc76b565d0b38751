from typing import Any

from django.http import HttpRequest

from casebook.auth import role_permissions


def membership(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's membership and role permissions, for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "role_perms": frozenset()}
    # Templates decide which buttons to show from the roles, never from ``perms``: Django's
    # ``perms`` says yes to superusers for everything.
    return {"membership": getattr(user, "member", None), "role_perms": role_permissions(user)}
