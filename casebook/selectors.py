"""Permission-aware reads of agencies and their members.

A supervisor manages the members of their own agency and of no other: every read here is
limited to the asking user's agency, and a member of another agency is a 404 (existence is
not disclosed). Who may manage members at all is a 403.
"""

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, overload
from uuid import UUID

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.auth import MANAGE_MEMBERS, VIEW_ACCESS_LOG, VIEW_PROTECTED, RequestUser, may
from casebook.caselookups import lookups
from casebook.models import AccessLog, Agency, Member, Notification, RoleChange


def membership(user: RequestUser) -> Member | None:
    """The user's membership, or ``None`` (anonymous users, installation administrators)."""
    if not user.is_authenticated:
        return None
    member: Member | None = getattr(user, "member", None)
    return member


def managed_agency(user: RequestUser) -> Agency:
    """The agency whose members the user manages: their own, if their roles allow it.

    Raises ``PermissionDenied`` (403) for users without ``casebook.manage_members`` and for
    users who belong to no agency (a superuser manages agencies in the admin instead).
    """
    member = membership(user)
    if member is None or not may(user, MANAGE_MEMBERS):
        raise PermissionDenied(_("You may not manage the members of an agency."))
    return member.agency


def member_list(user: RequestUser) -> QuerySet[Member]:
    """The members of the user's own agency, with their user rows; 403 as ``managed_agency``."""
    agency = managed_agency(user)
    return Member.objects.filter(agency=agency).select_related("user", "agency")


def get_member_for_supervisor(user: RequestUser, member_uuid: UUID | str) -> Member:
    """A member of the user's own agency (404 for anyone else's), 403 as ``managed_agency``."""
    member = member_list(user).filter(uuid=member_uuid).first()
    if member is None:
        raise Http404(_("No such member."))
    return member


def role_changes(member: Member) -> QuerySet[RoleChange]:
    """The roles given to and taken from ``member`` (from ``get_member_for_supervisor``),
    newest first, with who did it."""
    return member.role_changes.select_related("actor").order_by("-at", "-id")


# --- the access log ------------------------------------------------------------------------

# A username filter is applied as a list of user ids read first, so that the planner sees
# which users it is about (a subquery makes it assume an average user and walk the whole log
# newest first looking for a rare one). A substring that matches more users than this is not
# selective: it is applied as a subquery instead, and the plain newest-first walk suits it.
USER_ID_LIMIT = 1000
# The same for the cases the agency owns: past this many, they are matched by a subquery.
OWN_CASE_LIMIT = 2000


@dataclass(frozen=True)
class AccessLogFilters:
    username: str = ""
    case_reference: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


@dataclass(frozen=True)
class AccessLogResults:
    """``access_log_for_supervisor``'s entries, newest first, for a page or an export.

    The entries are the union of two parts, "about our cases" and "by our members"; each is
    read through an index of its own in newest-first order, and a slice (``results[0:51]``)
    takes the newest ``stop`` ids of each part, merges them and reads only those rows, so a
    quiet agency's page never walks the whole log. An entry in both parts is listed once.
    Iterating (the CSV export) and ``count()`` read the two parts as one condition.
    """

    user: RequestUser
    parts: tuple[QuerySet[AccessLog], ...]

    def count(self) -> int:
        return self._either().count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[AccessLog]:
        return self.iterator()

    def iterator(self, chunk_size: int = 2000) -> Iterator[AccessLog]:
        return self._rows(self._either()).iterator(chunk_size=chunk_size)

    @overload
    def __getitem__(self, index: int) -> AccessLog: ...

    @overload
    def __getitem__(self, index: slice) -> list[AccessLog]: ...

    def __getitem__(self, index: int | slice) -> AccessLog | list[AccessLog]:
        if isinstance(index, int):
            found = self[index : index + 1]
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop = index.start or 0, index.stop
        if start < 0 or (stop is not None and stop < 0) or index.step not in (None, 1):
            raise ValueError("the access log is sliced forwards only")
        if not self.parts or (stop is not None and stop <= start):
            return []
        if start == 0:
            # The first page in one query: the rows of the newest ``stop`` ids of each part.
            ids = self._newest(stop, "pk")
            return list(self._rows(AccessLog.objects.filter(pk__in=ids))[:stop])
        # A later page: its ids first, among narrow rows of the newest ``stop`` of each part,
        # then only its rows (not the rows of every page before it).
        newest: QuerySet[AccessLog, Mapping[str, Any]]
        if len(self.parts) == 1:
            newest = self.parts[0].order_by("-at", "-id").values("pk")
        else:
            newest = self._newest(stop, "pk", "at").order_by("-at", "-pk")
        page_ids = [row["pk"] for row in newest[start:stop]]
        return list(self._rows(AccessLog.objects.filter(pk__in=page_ids)))

    def _newest(self, stop: int | None, *fields: str) -> QuerySet[AccessLog, dict[str, Any]]:
        """``fields`` of the newest ``stop`` entries of each part (all of them if ``stop`` is
        ``None``), as one query; in no particular order if there are several parts."""
        ordered = [part.order_by("-at", "-id") for part in self.parts]
        newest: list[QuerySet[AccessLog, dict[str, Any]]]
        if len(ordered) == 1:
            only: QuerySet[AccessLog, dict[str, Any]] = ordered[0].values(*fields)[:stop]
            return only
        if connection.features.supports_slicing_ordering_in_compound:
            newest = [part.values(*fields)[:stop] for part in ordered]
        else:
            # SQLite cannot order and limit the parts of a UNION: each part is wrapped.
            newest = [
                AccessLog.objects.filter(pk__in=part.values("pk")[:stop]).order_by().values(*fields)
                for part in ordered
            ]
        # UNION, not UNION ALL: an entry in both parts is listed once.
        union: QuerySet[AccessLog, dict[str, Any]] = newest[0].union(*newest[1:])
        return union

    def _either(self) -> QuerySet[AccessLog]:
        """Every entry of either part, as one queryset."""
        if not self.parts:
            return AccessLog.objects.none()
        entries = self.parts[0]
        for part in self.parts[1:]:
            entries = entries | part
        return entries

    def _rows(self, entries: QuerySet[AccessLog]) -> QuerySet[AccessLog]:
        return (
            entries.annotate(case_visible=lookups().visible(self.user, case_ref="case_id"))
            .select_related("agency")
            .order_by("-at", "-id")
        )


def access_log_for_supervisor(
    user: RequestUser, *, filters: AccessLogFilters | None = None
) -> AccessLogResults:
    """The access-log entries a supervisor may read, newest first: every access to a case
    their agency owns, by anyone (who read our cases), and every access by a member of their
    agency (what our people read or tried to read).

    Each entry carries ``case_visible``: whether the reader may see its case today. Show
    ``case_reference`` only when it is true: an entry of one of our members about another
    agency's case (a refused attempt, a share since revoked) must not tell the supervisor
    which case it was, nor whether it exists. Filtering by case is limited to those cases too.
    Raises ``PermissionDenied`` (403) for users whose roles do not include reading the log.

    Reads the agency's case ids, and the ids of the users and the case the filters name, at
    once (a query each); the entries are read when the result is sliced or iterated.
    """
    member = membership(user)
    if member is None or not may(user, VIEW_ACCESS_LOG):
        raise PermissionDenied(_("You may not read the access log."))
    filters = filters or AccessLogFilters()
    return AccessLogResults(user=user, parts=_access_log_parts(user, member.agency_id, filters))


def _access_log_parts(
    user: RequestUser, agency_id: int, filters: AccessLogFilters
) -> tuple[QuerySet[AccessLog], ...]:
    """The filtered entries about the agency's cases and those by its members; none when a
    filter names no user or no case the supervisor may see."""
    entries = AccessLog.objects.all()
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to and filters.date_to < datetime.date.max:
        # (The view bounds its dates, ``casebook.listparams``; the last day has no next day.)
        entries = entries.filter(at__lt=_start_of(filters.date_to + datetime.timedelta(days=1)))
    if filters.username:
        user_ids = _ids_or_subquery(
            User.objects.filter(username__icontains=filters.username),
            limit=USER_ID_LIMIT,
        )
        if isinstance(user_ids, list) and not user_ids:
            return ()
        entries = entries.filter(user_id__in=user_ids)
    if filters.case_reference:
        case_ids = lookups().visible_ids_by_reference(user, filters.case_reference)
        if not case_ids:
            return ()
        entries = entries.filter(case_id__in=case_ids)
    parts = [entries.filter(agency_id=agency_id)]
    own_cases = _ids_or_subquery(lookups().owned_by(agency_id), limit=OWN_CASE_LIMIT)
    if not isinstance(own_cases, list) or own_cases:
        parts.append(entries.filter(case_id__in=own_cases))
    return tuple(parts)


def _ids_or_subquery(rows: QuerySet[Any], *, limit: int) -> list[int] | QuerySet[Any]:
    """The primary keys of ``rows`` as a list, read now; a subquery if there are more than
    ``limit`` of them (callers test for an empty list with ``isinstance``: the truth of a
    queryset would read it)."""
    ids = list(rows.order_by().values_list("pk", flat=True)[: limit + 1])
    return ids if len(ids) <= limit else rows.order_by().values("pk")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- notifications -------------------------------------------------------------------------


def notification_list(user: User) -> QuerySet[Notification]:
    """The notifications of the signed-in user's agency, newest first; none for users without
    one.

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
            Q(protected_only=False)
            | lookups().visible(user, case_ref="case", codename="view_protected")
        )
    else:
        rows = rows.filter(protected_only=False)
    if not may(user, MANAGE_MEMBERS):
        # Changes to accounts and to the agency are for its supervisors.
        rows = rows.filter(supervisors_only=False)
    read = Notification.read_by.through.objects.filter(
        notification_id=OuterRef("pk"), user_id=user.pk
    )
    return rows.annotate(
        is_read=Exists(read),
        case_visible=lookups().visible(user, case_ref="case"),
        case_uuid=F("case__uuid"),
    ).order_by("-created_at", "-id")


def unread_notification_count(user: User) -> int:
    """How many of ``notification_list(user)`` the user has not read, in one query."""
    # Q(): the annotation is unknown to the type checker's model of Notification.
    return notification_list(user).filter(Q(is_read=False)).count()
