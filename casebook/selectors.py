"""Permission-aware reads of agencies and their members.

A supervisor manages the members of their own agency and of no other: every read here is
limited to the asking user's agency, and a member of another agency is a 404 (existence is
not disclosed). Who may manage members at all is a 403.
"""

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.auth import MANAGE_MEMBERS, VIEW_ACCESS_LOG, VIEW_PROTECTED, may
from casebook.models import AccessLog, Agency, Member, Notification
from cases.models import Case
from cases.selectors import visible_to


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


# --- the access log ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessLogFilters:
    username: str = ""
    case_reference: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def access_log_for_supervisor(
    user: Any, *, filters: AccessLogFilters | None = None
) -> QuerySet[AccessLog]:
    """The access-log entries a supervisor may read, newest first: every access to a case
    their agency owns, by anyone (who read our cases), and every access by a member of their
    agency (what our people read or tried to read).

    Each entry carries ``case_visible``: whether the reader may see its case today. Show
    ``case_reference`` only when it is true: an entry of one of our members about another
    agency's case (a refused attempt, a share since revoked) must not tell the supervisor
    which case it was, nor whether it exists. Filtering by case is limited to those cases too.
    Raises ``PermissionDenied`` (403) for users whose roles do not include reading the log.
    """
    member = membership(user)
    if member is None or not may(user, VIEW_ACCESS_LOG):
        raise PermissionDenied(_("You may not read the access log."))
    filters = filters or AccessLogFilters()
    own_cases = Case.objects.filter(owner_agency_id=member.agency_id).values("pk")
    entries = (
        AccessLog.objects.filter(Q(case_id__in=own_cases) | Q(agency_id=member.agency_id))
        .annotate(case_visible=visible_to(user, case_ref="case_id"))
        .select_related("agency")
    )
    # Users and cases are looked up first, so that the log is read through its (user, -at)
    # and (case, -at) indexes.
    if filters.username:
        users = get_user_model().objects.filter(username__icontains=filters.username)
        entries = entries.filter(user_id__in=users.values("pk"))
    if filters.case_reference:
        cases = Case.objects.filter(visible_to(user), reference__iexact=filters.case_reference)
        entries = entries.filter(case_id__in=cases.values("pk"))
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        entries = entries.filter(at__lt=_start_of(filters.date_to + datetime.timedelta(days=1)))
    return entries.order_by("-at", "-id")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- notifications -------------------------------------------------------------------------


def notification_list(user: Any) -> QuerySet[Notification]:
    """The notifications of the user's agency, newest first; none for users without one.

    A ``protected_only`` notification is listed only to members who may see the protected
    identities of its case (their agency holds ``view_protected`` on it and their roles allow
    it). Each row carries ``is_read`` (by this user) and ``case_visible`` (whether the user
    may see its case today: link to it only then) and ``case_uuid``.
    """
    member = membership(user)
    # Without an agency there are none, with the same annotations all the same: callers
    # filter on them (the notifications page's POST filters on ``is_read``).
    rows = (
        Notification.objects.filter(agency_id=member.agency_id)
        if member is not None
        else Notification.objects.none()
    )
    if may(user, VIEW_PROTECTED):
        rows = rows.filter(
            Q(protected_only=False) | visible_to(user, case_ref="case", codename="view_protected")
        )
    else:
        rows = rows.filter(protected_only=False)
    read = Notification.read_by.through.objects.filter(
        notification_id=OuterRef("pk"), user_id=user.pk
    )
    return rows.annotate(
        is_read=Exists(read),
        case_visible=visible_to(user, case_ref="case"),
        case_uuid=F("case__uuid"),
    ).order_by("-created_at", "-id")


def unread_notification_count(user: Any) -> int:
    """How many of ``notification_list(user)`` the user has not read, in one query."""
    # Q(): the annotation is unknown to the type checker's model of Notification.
    return notification_list(user).filter(Q(is_read=False)).count()
