"""The shares of a case, for the members who manage it."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from casebook import access
from casebook.models import Agency
from cases.models import Case, CaseShare
from cases.selectors.cases import _case_for_user


def share_list(case: Case) -> QuerySet[CaseShare]:
    """Every share of a case (from ``get_case_for_user(..., action="manage")``), open and
    ended, newest first, with what the sharing page shows."""
    return CaseShare.objects.filter(case=case).select_related(
        "agency__country", "granted_by", "granted_by_agency", "ended_by"
    )


def get_share_for_user(user: Any, case_uuid: UUID | str, share_uuid: UUID | str) -> CaseShare:
    """A share of a case the user may manage (404 / 403 as ``get_case_for_user``); 404 if the
    share is not one of that case's. Whether the user may revoke it is the service's to say."""
    case = _case_for_user(user, case_uuid, action="manage")
    share = share_list(case).filter(uuid=share_uuid).first()
    if share is None:
        raise Http404(_("No such share."))
    access.record(action="manage", object_type="share", case=case, object_uuid=share.uuid)
    share.case = case
    return share


def share_target_agencies(case: Case, agency: Agency) -> list[Agency]:
    """The agencies a share form offers: all but the case's owner and the sharing agency
    (by country, then name)."""
    return list(
        Agency.objects.exclude(pk__in=[case.owner_agency_id, agency.pk])
        .select_related("country")
        .order_by("country__name", "name")
    )
