"""Permission-aware reads of agencies and their members.

A supervisor manages the members of their own agency and of no other: every read here is
limited to the asking user's agency, and a member of another agency is a 404 (existence is
not disclosed). Who may manage members at all is a 403.
"""

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from casebook.auth import MANAGE_MEMBERS, may
from casebook.models import Agency, Member


def membership(user: Any) -> Member | None:
    """The user's membership, or ``None`` (anonymous users, installation administrators)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "member", None)


def managed_agency(user: Any) -> Agency:
    """The agency whose members the user manages: their own, if their roles allow it.

    Raises ``PermissionDenied`` (403) for users without ``casebook.manage_members`` and for
    users who belong to no agency (a superuser manages agencies in the admin instead).
    """
    member = membership(user)
    if member is None or not may(user, MANAGE_MEMBERS):
        raise PermissionDenied(_("You may not manage the members of an agency."))
    return member.agency


def member_list(user: Any) -> QuerySet[Member]:
    """The members of the user's own agency, with their user rows; 403 as ``managed_agency``."""
    agency = managed_agency(user)
    return Member.objects.filter(agency=agency).select_related("user", "agency")


def get_member_for_supervisor(user: Any, member_uuid: UUID | str) -> Member:
    """A member of the user's own agency (404 for anyone else's), 403 as ``managed_agency``."""
    member = member_list(user).filter(uuid=member_uuid).first()
    if member is None:
        raise Http404(_("No such member."))
    return member
