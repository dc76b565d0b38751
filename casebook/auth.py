"""Model-level permissions from a member's roles.

Roles say what kinds of action a member may take; whether they may take it on a given case is
an object permission of their agency (``cases.selectors``). An action needs both. The
permissions are computed from the ``Member`` row, so changing a role takes effect on the next
request and there is no second copy of the roles to keep in step.
"""

from typing import TypeAlias

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest

from casebook.models import Member

# Who acts. Members and administrators are Django's ``User`` (AUTH_USER_MODEL is the default);
# ``request.user`` may also be nobody signed in, and code handed it says so with this type.
RequestUser: TypeAlias = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is signed in. A type for
    annotations only (django-stubs' recipe); Django still builds a plain ``HttpRequest``."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, where a sign-in check has already run (the admin's own, or
    ``login_required``) but the signature cannot say so. Nobody signed in is refused
    (``PermissionDenied``): a path that lost its check fails closed instead of acting as
    nobody."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


VIEW_CASE = "cases.view_case"
ADD_CASE = "cases.add_case"
CHANGE_CASE = "cases.change_case"
CONTRIBUTE_CASE = "cases.contribute_case"
MANAGE_CASE = "cases.manage_case"
VIEW_PROTECTED = "cases.view_protected"
MANAGE_MEMBERS = "casebook.manage_members"
VIEW_ACCESS_LOG = "casebook.view_access_log"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "investigator": frozenset({VIEW_CASE, ADD_CASE, CHANGE_CASE, CONTRIBUTE_CASE, VIEW_PROTECTED}),
    "prosecutor": frozenset({VIEW_CASE, CHANGE_CASE, CONTRIBUTE_CASE, VIEW_PROTECTED}),
    "analyst": frozenset({VIEW_CASE}),
    "supervisor": frozenset({VIEW_CASE, MANAGE_CASE, MANAGE_MEMBERS, VIEW_ACCESS_LOG}),
}


# The attribute of a user object that holds its role permissions for the rest of the request.
_CACHE = "_casebook_role_perms"


def role_permissions(user: RequestUser) -> frozenset[str]:
    """The model-level permissions a user's roles give; none without an active membership."""
    if not getattr(user, "is_active", False) or getattr(user, "is_anonymous", True):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    member: Member | None = getattr(user, "member", None)
    perms: frozenset[str] = frozenset()
    if member is not None:
        perms = frozenset().union(*(ROLE_PERMISSIONS[role] for role in member.roles))
    # setattr, not vars(): request.user is a lazy proxy that passes setattr on to the user.
    setattr(user, _CACHE, perms)
    return perms


def may(user: RequestUser, perm: str) -> bool:
    """Whether the user's roles allow ``perm``. Unlike ``user.has_perm``, a superuser gets
    nothing here: model-level checks on case work go through this function."""
    return perm in role_permissions(user)


class RolePermissionBackend(BaseBackend):
    """Grants model-level permissions by role. Never grants anything on an object."""

    def get_all_permissions(self, user_obj: RequestUser, obj: Model | None = None) -> set[str]:
        if obj is not None:
            return set()
        return set(role_permissions(user_obj))

    def has_perm(self, user_obj: RequestUser, perm: str, obj: Model | None = None) -> bool:
        return obj is None and perm in role_permissions(user_obj)


class PasswordBackend(ModelBackend):
    """Django's password authentication, without its database permissions.

    Casebook assigns no permissions to users or groups in the database (roles give them,
    above), so the two permission queries ModelBackend runs per request would only ever
    return nothing. Superusers still pass every model-level check in the admin: Django
    answers those before asking any backend.
    """

    def get_user_permissions(self, user_obj: RequestUser, obj: Model | None = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: RequestUser, obj: Model | None = None) -> set[str]:
        return set()
