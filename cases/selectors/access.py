"""What a user may do on a case, as a value: ``CaseAccess``, and the grant rows behind it.

A ``CaseAccess`` is the case with the actions (``cases.permissions.ACTIONS`` keys) the user may
take on it, computed once from the live grants of the user's agency and the member's roles
(``case_permissions``). It is passed along instead of attributes set on the model instance, so
that a reader or a service is told what it may do by its argument, not by how the instance was
fetched. It is a snapshot: a share revoked after it was computed is seen on the next request.
"""

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, CaseGroupObjectPermission
from cases.permissions import CaseAccess
from cases.selectors.grants import case_permissions


def case_access(user: User, case: Case) -> CaseAccess:
    """What ``user`` may do on ``case``, in one query (none for a user without an agency).

    Says nothing about whether ``case`` was fetched through a visibility filter: for a case
    the user may not see, ``actions`` is empty."""
    return case_accesses(user, [case])[case.pk]


def case_accesses(user: User, cases: Iterable[Case]) -> dict[int, CaseAccess]:
    """``case_access`` for each of ``cases``, by case id, in one query whatever their number."""
    cases = list(cases)
    permissions = case_permissions(user, cases)
    return {
        case.pk: CaseAccess(user=user, case=case, actions=frozenset(permissions[case.pk]))
        for case in cases
    }


@dataclass(frozen=True)
class GrantRow:
    """One live grant: the agency (``agency_id``, through its group ``group_id``) holds the
    object permission ``codename`` on case ``case_id`` until ``expires_at`` (None: until
    revoked). What a search index stores as the access-control fields of a case's documents;
    an index must still drop rows whose ``expires_at`` has passed when it is queried."""

    case_id: int
    group_id: int
    agency_id: int
    codename: str
    expires_at: datetime.datetime | None


def case_grant_rows(case_ids: Collection[int]) -> list[GrantRow]:
    """The live grants on the cases ``case_ids``, in one query whatever their number, ordered
    by case, group and codename.

    Live as ``live_grants`` defines it (no expiry, or one still ahead), and only grants to an
    agency's group: grants to any other group give no access (``agency_group_ids``). No
    permission check: the caller is a system channel (an indexer), never a member's request.
    """
    if not case_ids:
        return []
    rows = (
        CaseGroupObjectPermission.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            content_object_id__in=list(case_ids),
            group__agency__isnull=False,
        )
        .order_by("content_object_id", "group_id", "permission__codename")
        .values_list(
            "content_object_id",
            "group_id",
            "group__agency__id",
            "permission__codename",
            "expires_at",
        )
    )
    return [
        GrantRow(
            case_id=case_id,
            group_id=group_id,
            agency_id=agency_id,
            codename=codename,
            expires_at=expires_at,
        )
        for case_id, group_id, agency_id, codename, expires_at in rows
    ]
