"""Permission names of the cases app and their lookups: what each action needs, what the
owner agency holds on its own cases, and ``CaseAccess``: a case with what a user may do on it.

``CaseAccess`` is passed along instead of attributes set on model instances: the readers mask
by it (``access.sees_protected``) and the services check it (``access.require(...)``), so a
reader or a service is told what it may do by its argument, not by how an instance was
fetched. Built by ``cases.selectors`` (``get_case_access``, ``case_access``) from the live
grants of the user's agency and the member's roles. It is a snapshot of one request: a share
revoked after it was built is seen on the next request.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from cases.models import Case

# What each action needs: the agency's object permission on the case, and the member's role
# permission (model level). Both must hold.
ACTIONS: dict[str, tuple[str, str]] = {
    "view": ("view_case", "cases.view_case"),
    "contribute": ("contribute_case", "cases.contribute_case"),
    "change": ("change_case", "cases.change_case"),
    "manage": ("manage_case", "cases.manage_case"),
    # Not an action on its own: seeing the victims, witnesses and informants of the case.
    "view_protected": ("view_protected", "cases.view_protected"),
}

_permission_ids: dict[str, int] = {}


def permission_id(codename: str) -> int:
    """The primary key of a ``cases`` permission, cached for the life of the process."""
    if codename not in _permission_ids:
        _permission_ids[codename] = Permission.objects.get(
            content_type__app_label="cases", codename=codename
        ).pk
    return _permission_ids[codename]


# What the owner agency holds on its own cases.
OWNER_PERMISSIONS = ("view_case", "contribute_case", "change_case", "manage_case", "view_protected")


@dataclass(frozen=True)
class CaseAccess:
    """The case, the user, and the actions the user may take on it ("view", "contribute", "change",
    "manage", and "view_protected": seeing its victims, witnesses and informants).

    An empty ``actions`` means the user may not even see the case: callers that got the case
    through a visibility filter never hold one, callers that built it from a bare ``Case``
    must check ``allows("view")`` (or ``require("view")``) before reading anything of it.
    """

    user: User
    case: Case
    actions: frozenset[str]

    def allows(self, action: str) -> bool:
        """Whether the user may take ``action``; an unknown action is a programming error
        (``ValueError``), never a silent no."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return action in self.actions

    @property
    def sees_protected(self) -> bool:
        """Whether the user sees the case's protected identities unmasked: their agency holds
        ``view_protected`` on it and their role allows it (both are in ``actions``)."""
        return "view_protected" in self.actions

    def require(self, action: str) -> None:
        """``PermissionDenied`` unless the user may take ``action`` (the message the
        selectors' 403 gives)."""
        if not self.allows(action):
            raise PermissionDenied(_("You may not do this on this case."))
