"""The shares of a case, for the members who manage it."""

import datetime
from collections import defaultdict
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook import access
from casebook.models import Agency
from cases.models import Case, CaseShare
from cases.permissions import CaseAccess
from cases.rules import HANDLING_RULES, may_grant, may_reshare_to
from cases.selectors.cases import _case_access


def share_list(case: Case) -> QuerySet[CaseShare]:
    """Every share of a case (from ``get_case_access(..., action="manage")``), open and
    ended, newest first, with what the sharing page shows."""
    return CaseShare.objects.filter(case=case).select_related(
        "agency__country", "granted_by", "granted_by_agency", "ended_by"
    )


def get_share_for_user(
    user: User, case_uuid: UUID | str, share_uuid: UUID | str
) -> tuple[CaseAccess, CaseShare]:
    """A share of a case the user may manage (404 / 403 as ``get_case_access``), with the
    access it was read under; 404 if the share is not one of that case's. Whether the user
    may revoke it is the service's to say."""
    case_access = _case_access(user, case_uuid, action="manage")
    case = case_access.case
    share = share_list(case).filter(uuid=share_uuid).first()
    if share is None:
        raise Http404(_("No such share."))
    access.record(action="manage", object_type="share", case=case, object_uuid=share.uuid)
    share.case = case
    return case_access, share


def share_target_agencies(case: Case, agency: Agency) -> list[Agency]:
    """The agencies a share form offers: all but the case's owner and the sharing agency
    (by country, then name)."""
    return list(
        Agency.objects.exclude(pk__in=[case.owner_agency_id, agency.pk])
        .select_related("country")
        .order_by("country__name", "name")
    )


Level = CaseShare.Level


def active_at(at: datetime.datetime) -> Q:
    """Shares active at ``at``: not ended, not expired."""
    return Q(ended_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def code_change_conflicts(case: Case, new_code: str) -> list[CaseShare]:
    """The active shares of ``case`` that raising its code to ``new_code`` puts in question:
    the re-shares (granted by a recipient) that the new code forbids, and the re-shares granted
    from those, which end with them if the owner revokes them. Shares the owner agency
    granted never conflict."""
    if new_code not in HANDLING_RULES:
        return []

    def allowed(share: CaseShare) -> bool:
        return may_grant(new_code, is_owner=False, actor_level=Level.MANAGE) and may_reshare_to(
            new_code, actor_agency=share.granted_by_agency, target_agency=share.agency
        )

    reshares = _reshares(case)
    granted_by: dict[int, list[CaseShare]] = defaultdict(list)
    for share in reshares:
        granted_by[share.granted_by_agency_id].append(share)
    ending: set[int] = set()
    pending = [share for share in reshares if not allowed(share)]
    while pending:
        share = pending.pop()
        if share.pk not in ending:
            ending.add(share.pk)
            pending.extend(granted_by[share.agency_id])
    return [share for share in reshares if share.pk in ending]


def _reshares(case: Case) -> list[CaseShare]:
    return list(
        CaseShare.objects.filter(active_at(timezone.now()), case=case)
        .exclude(granted_by_agency_id=case.owner_agency_id)
        .select_related("agency__country", "granted_by_agency__country", "granted_by")
        .order_by("agency__country__name", "agency__name")
    )


def reshare_expiry_limit(case: Case, agency: Agency) -> datetime.datetime | None:
    """The latest expiry ``agency`` may give when it re-shares ``case``: the expiry of its own
    share of the case. ``None`` when there is no limit (the owner agency, an open-ended
    share, or no live share: the service refuses that actor anyway)."""
    if agency.pk == case.owner_agency_id:
        return None
    own = CaseShare.objects.filter(active_at(timezone.now()), case=case, agency=agency).first()
    return own.expires_at if own is not None else None
